//! Tenant IDs, with the rules and messages of dskit's `tenant` and `user` packages that Mimir
//! uses: at most 150 bytes of `a-z A-Z 0-9 ! - _ . * ' ( )`, not `.` or `..`, plus Mimir's
//! documented reservation of `__mimir_cluster`. A missing or empty `X-Scope-OrgID` is
//! HTTP 401 `no org id`; `a|b` names two tenants, refused on single-tenant endpoints.
//!
//! Status codes: Mimir's auth middleware answers 401 for a missing header; for a malformed
//! tenant ID its push path returns the bare error, which surfaces as HTTP 500. We answer 400
//! instead, since the client must fix the header and retrying a 5xx would never succeed.

use crate::errors::{STATUS_BAD_REQUEST, STATUS_UNAUTHORIZED, ValidationError, ids};

/// The header that carries the tenant.
pub const ORG_ID_HEADER: &str = "X-Scope-OrgID";
/// Longest tenant ID, in bytes.
pub const MAX_TENANT_ID_LENGTH: usize = 150;
/// The tenant used when multi-tenancy is disabled (`-auth.multitenancy-enabled=false`).
pub const ANONYMOUS_TENANT: &str = "anonymous";
/// The name Mimir uses internally (bucket-level cluster seed); never a tenant.
pub const RESERVED_TENANT_ID: &str = "__mimir_cluster";

const SEPARATOR: char = '|';

/// Checks one tenant ID. An empty one is the missing-tenant error (401 `no org id`).
pub fn validate_tenant_id(tenant: &str) -> Result<(), ValidationError> {
    if tenant.is_empty() {
        return Err(no_org_id());
    }
    if let Some(byte) = tenant.bytes().find(|byte| !is_supported(*byte)) {
        // Go prints the offending *byte* with %c, i.e. as the code point of that byte value.
        let shown = char::from(byte);
        return Err(invalid(format!(
            "tenant ID '{tenant}' contains unsupported character '{shown}'"
        )));
    }
    if tenant.len() > MAX_TENANT_ID_LENGTH {
        return Err(invalid(format!(
            "tenant ID is too long: max {MAX_TENANT_ID_LENGTH} characters"
        )));
    }
    if tenant == "." || tenant == ".." {
        return Err(invalid("tenant ID is '.' or '..'".to_owned()));
    }
    if tenant == RESERVED_TENANT_ID {
        return Err(invalid(format!(
            "tenant ID '{RESERVED_TENANT_ID}' is reserved for internal use"
        )));
    }
    Ok(())
}

/// The single tenant named by an `X-Scope-OrgID` header value (`None` when absent).
///
/// `a|a` is tenant `a`, as in dskit; `a|b` is refused with `multiple org IDs present`.
pub fn tenant_from_org_id(header: Option<&str>) -> Result<String, ValidationError> {
    let org_id = header.unwrap_or_default();
    if org_id.is_empty() {
        return Err(no_org_id());
    }
    let mut tenants = org_id.split(SEPARATOR);
    let first = tenants.next().unwrap_or_default();
    validate_tenant_id(first)?;
    if tenants.any(|other| other != first) {
        return Err(ValidationError {
            id: ids::MULTIPLE_ORG_IDS,
            status: STATUS_BAD_REQUEST,
            message: "multiple org IDs present".to_owned(),
        });
    }
    Ok(first.to_owned())
}

fn is_supported(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!-_.*'()".contains(&byte)
}

fn no_org_id() -> ValidationError {
    ValidationError {
        id: ids::NO_ORG_ID,
        status: STATUS_UNAUTHORIZED,
        message: "no org id".to_owned(),
    }
}

fn invalid(message: String) -> ValidationError {
    ValidationError {
        id: ids::INVALID_TENANT_ID,
        status: STATUS_BAD_REQUEST,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(tenant: &str) -> (&'static str, u16, String) {
        let error = validate_tenant_id(tenant).unwrap_err();
        (error.id, error.status, error.message)
    }

    #[test]
    fn valid_tenant_ids() {
        for tenant in [
            "tenant-a",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijklmnopqrstuvwxyz_0987654321!.*'()",
            &"a".repeat(150),
            "...",
        ] {
            assert!(validate_tenant_id(tenant).is_ok(), "{tenant}");
        }
    }

    #[test]
    fn invalid_tenant_ids_use_dskit_messages() {
        assert_eq!(
            refusal("invalid|"),
            (
                ids::INVALID_TENANT_ID,
                400,
                "tenant ID 'invalid|' contains unsupported character '|'".to_owned()
            )
        );
        assert_eq!(
            refusal("a/b").2,
            "tenant ID 'a/b' contains unsupported character '/'"
        );
        assert_eq!(
            refusal("has space").2,
            "tenant ID 'has space' contains unsupported character ' '"
        );
        // The first byte of 'é' (0xC3) is shown as U+00C3, like Go's %c on a byte.
        assert_eq!(
            refusal("é").2,
            "tenant ID 'é' contains unsupported character 'Ã'"
        );
        assert_eq!(
            refusal(&"a".repeat(151)).2,
            "tenant ID is too long: max 150 characters"
        );
        assert_eq!(refusal(".").2, "tenant ID is '.' or '..'");
        assert_eq!(refusal("..").2, "tenant ID is '.' or '..'");
        assert_eq!(
            refusal("__mimir_cluster").2,
            "tenant ID '__mimir_cluster' is reserved for internal use"
        );
        assert_eq!(refusal(""), (ids::NO_ORG_ID, 401, "no org id".to_owned()));
    }

    #[test]
    fn org_id_header() {
        let missing = tenant_from_org_id(None).unwrap_err();
        assert_eq!(
            (missing.id, missing.status, missing.message.as_str()),
            (ids::NO_ORG_ID, 401, "no org id")
        );
        assert_eq!(tenant_from_org_id(Some("")).unwrap_err().status, 401);
        assert_eq!(tenant_from_org_id(Some("team-1")).unwrap(), "team-1");
        assert_eq!(tenant_from_org_id(Some("team-1|team-1")).unwrap(), "team-1");
        let two = tenant_from_org_id(Some("team-1|team-2")).unwrap_err();
        assert_eq!(
            (two.id, two.status, two.message.as_str()),
            (ids::MULTIPLE_ORG_IDS, 400, "multiple org IDs present")
        );
        let bad = tenant_from_org_id(Some("a b")).unwrap_err();
        assert_eq!((bad.id, bad.status), (ids::INVALID_TENANT_ID, 400));
    }
}
