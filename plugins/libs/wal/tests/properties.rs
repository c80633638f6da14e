//! Property tests: whatever happens to the bytes of a valid WAL (flipped bits, overwritten ranges,
//! truncation at any length, garbage appended, a segment deleted) or whatever garbage a directory holds,
//! `open` and `replay` never panic and return exactly the records before the first damaged one; a second
//! open finds nothing to repair and the WAL takes appends again.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use mimir_wal::{FsyncPolicy, Wal};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::support::{Records, options, replay_all, segment_files};

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit { at: Index, bit: u8 },
    Overwrite { at: Index, bytes: Vec<u8> },
    Truncate { at: Index },
    AppendGarbage { bytes: Vec<u8> },
    DeleteSegment { which: Index },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..24))
            .prop_map(|(at, bytes)| Mutation::Overwrite { at, bytes }),
        any::<Index>().prop_map(|at| Mutation::Truncate { at }),
        prop::collection::vec(any::<u8>(), 1..64)
            .prop_map(|bytes| Mutation::AppendGarbage { bytes }),
        any::<Index>().prop_map(|which| Mutation::DeleteSegment { which }),
    ]
}

fn records() -> impl Strategy<Value = Records> {
    prop::collection::vec(
        (any::<u8>(), prop::collection::vec(any::<u8>(), 0..48)),
        1..40,
    )
}

/// Where each record lies: (file index, start, end) in file offsets, found by walking the headers of
/// the clean WAL.
fn layout(files: &[PathBuf]) -> Vec<(usize, u64, u64)> {
    let mut spans = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let bytes = fs::read(file).unwrap();
        let mut offset = 0usize;
        while offset < bytes.len() {
            let len =
                u32::from_le_bytes(bytes[offset + 1..offset + 5].try_into().unwrap()) as usize;
            let end = offset + 9 + len;
            spans.push((index, offset as u64, end as u64));
            offset = end;
        }
    }
    spans
}

/// Applies `mutation` to the clean WAL in `dir`; returns how many records must survive, and whether
/// the damage must be detected.
fn apply(dir: &Path, mutation: &Mutation) -> (usize, bool) {
    let files = segment_files(dir);
    let spans = layout(&files);
    let lens: Vec<u64> = files
        .iter()
        .map(|file| fs::metadata(file).unwrap().len())
        .collect();
    let total: u64 = lens.iter().sum();
    // Global byte position -> (file index, offset in file).
    let locate = |global: u64| {
        let mut rest = global;
        for (index, &len) in lens.iter().enumerate() {
            if rest < len {
                return (index, rest);
            }
            rest -= len;
        }
        unreachable!("position past the end")
    };
    let record_at = |file: usize, offset: u64| {
        spans
            .iter()
            .position(|&(index, start, end)| index == file && start <= offset && offset < end)
            .unwrap()
    };
    match mutation {
        Mutation::FlipBit { at, bit } => {
            let (file, offset) = locate(at.index(total as usize) as u64);
            let mut bytes = fs::read(&files[file]).unwrap();
            bytes[offset as usize] ^= 1 << bit;
            fs::write(&files[file], &bytes).unwrap();
            (record_at(file, offset), true)
        }
        Mutation::Overwrite { at, bytes: garbage } => {
            let (file, offset) = locate(at.index(total as usize) as u64);
            let mut bytes = fs::read(&files[file]).unwrap();
            let start = offset as usize;
            let end = (start + garbage.len()).min(bytes.len());
            let first_changed = (start..end).find(|&i| bytes[i] != garbage[i - start]);
            bytes[start..end].copy_from_slice(&garbage[..end - start]);
            fs::write(&files[file], &bytes).unwrap();
            match first_changed {
                Some(changed) => (record_at(file, changed as u64), true),
                None => (spans.len(), false),
            }
        }
        Mutation::Truncate { at } => {
            let cut = at.index(total as usize + 1) as u64;
            let mut rest = cut;
            for (index, file) in files.iter().enumerate() {
                if rest >= lens[index] {
                    rest -= lens[index];
                    continue;
                }
                OpenOptions::new()
                    .write(true)
                    .open(file)
                    .unwrap()
                    .set_len(rest)
                    .unwrap();
                for later in &files[index + 1..] {
                    fs::remove_file(later).unwrap();
                }
                break;
            }
            let mut global_start = 0;
            let mut survivors = 0;
            for (index, len) in lens.iter().enumerate() {
                survivors += spans
                    .iter()
                    .filter(|&&(file, _, end)| file == index && global_start + end <= cut)
                    .count();
                global_start += len;
            }
            (survivors, false)
        }
        Mutation::AppendGarbage { bytes } => {
            let last = files.last().unwrap();
            OpenOptions::new()
                .append(true)
                .open(last)
                .unwrap()
                .write_all(bytes)
                .unwrap();
            (spans.len(), false)
        }
        Mutation::DeleteSegment { which } => {
            if files.len() < 2 {
                return (spans.len(), false);
            }
            // Not the first: without a checkpoint, where the WAL starts is not knowable.
            let index = 1 + which.index(files.len() - 1);
            fs::remove_file(&files[index]).unwrap();
            let survivors = spans.iter().filter(|&&(file, _, _)| file < index).count();
            // Deleting the last segment is a truncation: nothing left to notice a gap.
            (survivors, index + 1 < files.len())
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn damage_keeps_exactly_the_records_before_it(
        records in records(),
        batch in 1usize..4,
        segment_size in 64u64..256,
        mutation in mutation(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let opts = options(segment_size, FsyncPolicy::Never);
        {
            let (wal, _) = Wal::open(dir.path(), opts).unwrap();
            for chunk in records.chunks(batch) {
                let batch: Vec<(u8, &[u8])> = chunk.iter().map(|(kind, payload)| (*kind, payload.as_slice())).collect();
                wal.append(&batch).unwrap();
            }
        }
        prop_assert_eq!(layout(&segment_files(dir.path())).len(), records.len());
        let (survivors, detectable) = apply(dir.path(), &mutation);

        let (wal, report) = Wal::open(dir.path(), opts).unwrap();
        let (replayed, replay) = replay_all(&wal);
        prop_assert_eq!(&replayed[..], &records[..survivors]);
        prop_assert_eq!(report.records(), survivors as u64);
        prop_assert!(replay.damage.is_empty());
        prop_assert!(report.damage.len() <= 1);
        if detectable {
            prop_assert_eq!(report.damage.len(), 1);
        }
        wal.append(&[(7, b"next")]).unwrap();
        drop(wal);

        let (wal, again) = Wal::open(dir.path(), opts).unwrap();
        prop_assert!(again.damage.is_empty());
        let (replayed, _) = replay_all(&wal);
        prop_assert_eq!(replayed.len(), survivors + 1);
        prop_assert_eq!(&replayed[..survivors], &records[..survivors]);
        prop_assert_eq!(&replayed[survivors], &(7u8, b"next".to_vec()));
    }

    #[test]
    fn arbitrary_directory_contents_never_crash(
        files in prop::collection::vec((0u64..6, prop::collection::vec(any::<u8>(), 0..200)), 0..5),
        checkpoint in prop::option::of((0u64..4, prop::collection::vec(any::<u8>(), 0..200))),
    ) {
        let dir = tempfile::tempdir().unwrap();
        for (number, bytes) in &files {
            fs::write(dir.path().join(format!("{number:08}")), bytes).unwrap();
        }
        if let Some((upto, bytes)) = &checkpoint {
            let checkpoint_dir = dir.path().join(format!("checkpoint.{upto:08}"));
            fs::create_dir(&checkpoint_dir).unwrap();
            fs::write(checkpoint_dir.join("00000000"), bytes).unwrap();
        }
        let opts = options(128, FsyncPolicy::Never);
        let (wal, report) = Wal::open(dir.path(), opts).unwrap();
        let (replayed, _) = replay_all(&wal);
        prop_assert_eq!(replayed.len() as u64, report.records());
        wal.append(&[(1, b"x")]).unwrap();
        drop(wal);
        let (wal, again) = Wal::open(dir.path(), opts).unwrap();
        // A damaged checkpoint is never repaired, so only segment damage must be gone.
        prop_assert!(again.damage.iter().all(|damage| !damage.repaired));
        prop_assert_eq!(replay_all(&wal).0.len(), replayed.len() + 1);
    }
}
