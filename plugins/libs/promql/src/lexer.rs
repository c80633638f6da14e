//! The PromQL lexer: turns a query into tokens with byte spans. Like Prometheus' `lex.go` it is
//! stateful (inside braces only label-matcher tokens are legal, inside brackets `:` separates range and
//! step), it skips spaces and `#` comments, and it stops at the first lexical error, which it reports
//! as a final [`TokenKind::Error`] token so that the parser reports earlier syntax errors first.

use crate::ast::{AggregateOp, Span};
use crate::token::{Keyword, Token, TokenKind, go_quote, quote_char};

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_alpha(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_alphanumeric(c: char) -> bool {
    is_alpha(c) || c.is_ascii_digit()
}

fn keyword(word: &str) -> Option<TokenKind> {
    let lower = word.to_ascii_lowercase();
    let kind = match lower.as_str() {
        "and" => TokenKind::And,
        "or" => TokenKind::Or,
        "unless" => TokenKind::Unless,
        "atan2" => TokenKind::Atan2,
        "inf" | "nan" => TokenKind::Number,
        "bool" => TokenKind::Keyword(Keyword::Bool),
        "by" => TokenKind::Keyword(Keyword::By),
        "group_left" => TokenKind::Keyword(Keyword::GroupLeft),
        "group_right" => TokenKind::Keyword(Keyword::GroupRight),
        "ignoring" => TokenKind::Keyword(Keyword::Ignoring),
        "offset" => TokenKind::Keyword(Keyword::Offset),
        "on" => TokenKind::Keyword(Keyword::On),
        "without" => TokenKind::Keyword(Keyword::Without),
        "start" => TokenKind::Keyword(Keyword::Start),
        "end" => TokenKind::Keyword(Keyword::End),
        "step" => TokenKind::Keyword(Keyword::Step),
        "range" => TokenKind::Keyword(Keyword::Range),
        other => TokenKind::Aggregator(AggregateOp::from_name(other)?),
    };
    Some(kind)
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    paren_depth: usize,
    brace_open: bool,
    bracket_open: bool,
    got_colon: bool,
}

/// Splits `input` into tokens. The last token is `Eof` or, after a lexical error, `Error`.
pub(crate) fn lex(input: &str) -> Vec<Token> {
    let mut lexer = Lexer {
        input,
        pos: 0,
        tokens: Vec::new(),
        paren_depth: 0,
        brace_open: false,
        bracket_open: false,
        got_colon: false,
    };
    if let Err((start, message)) = lexer.run() {
        lexer.tokens.push(Token {
            kind: TokenKind::Error(message),
            span: Span::new(start, input.len()),
        });
    }
    lexer.tokens
}

type LexResult = Result<(), (usize, String)>;

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.input[self.pos..].chars().next()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.input[self.pos..].chars().nth(offset)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn emit(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token {
            kind,
            span: Span::new(start, self.pos),
        });
    }

    fn run(&mut self) -> LexResult {
        loop {
            let start = self.pos;
            if self.brace_open {
                self.lex_inside_braces(start)?;
                continue;
            }
            let Some(c) = self.bump() else {
                if self.paren_depth != 0 {
                    return Err((start, "unclosed left parenthesis".to_string()));
                }
                if self.bracket_open {
                    return Err((start, "unclosed left bracket".to_string()));
                }
                self.emit(TokenKind::Eof, start);
                return Ok(());
            };
            match c {
                '#' => self.skip_comment(),
                c if is_space(c) => {}
                ',' => self.emit(TokenKind::Comma, start),
                '*' => self.emit(TokenKind::Mul, start),
                '/' => self.emit(TokenKind::Div, start),
                '%' => self.emit(TokenKind::Mod, start),
                '+' => self.emit(TokenKind::Add, start),
                '-' => self.emit(TokenKind::Sub, start),
                '^' => self.emit(TokenKind::Pow, start),
                '@' => self.emit(TokenKind::At, start),
                '=' => match self.peek() {
                    Some('=') => {
                        self.bump();
                        self.emit(TokenKind::Eqlc, start);
                    }
                    Some('~') => {
                        return Err((start, "unexpected character after '=': '~'".to_string()));
                    }
                    _ => self.emit(TokenKind::Eql, start),
                },
                '!' => match self.bump() {
                    Some('=') => self.emit(TokenKind::Neq, start),
                    other => {
                        let shown = other.map_or_else(|| "EOF".to_string(), quote_char);
                        return Err((start, format!("unexpected character after '!': {shown}")));
                    }
                },
                '<' | '>' => {
                    let with_eq = self.peek() == Some('=');
                    if with_eq {
                        self.bump();
                    }
                    let kind = match (c, with_eq) {
                        ('<', true) => TokenKind::Lte,
                        ('<', false) => TokenKind::Lss,
                        (_, true) => TokenKind::Gte,
                        _ => TokenKind::Gtr,
                    };
                    self.emit(kind, start);
                }
                c if c.is_ascii_digit()
                    || (c == '.' && self.peek().is_some_and(|n| n.is_ascii_digit())) =>
                {
                    self.pos = start;
                    self.lex_number_or_duration(start)?;
                }
                '"' | '\'' => self.lex_string(start, c)?,
                '`' => self.lex_raw_string(start)?,
                ':' if self.bracket_open => {
                    if self.got_colon {
                        return Err((start, "unexpected colon ':'".to_string()));
                    }
                    self.got_colon = true;
                    self.emit(TokenKind::Colon, start);
                }
                c if is_alpha(c) || c == ':' => self.lex_keyword_or_identifier(start),
                '(' => {
                    self.paren_depth += 1;
                    self.emit(TokenKind::LeftParen, start);
                }
                ')' => {
                    if self.paren_depth == 0 {
                        return Err((start, "unexpected right parenthesis ')'".to_string()));
                    }
                    self.paren_depth -= 1;
                    self.emit(TokenKind::RightParen, start);
                }
                '{' => {
                    self.brace_open = true;
                    self.emit(TokenKind::LeftBrace, start);
                }
                '[' => {
                    if self.bracket_open {
                        return Err((start, "unexpected left bracket '['".to_string()));
                    }
                    self.got_colon = false;
                    self.bracket_open = true;
                    self.emit(TokenKind::LeftBracket, start);
                }
                ']' => {
                    if !self.bracket_open {
                        return Err((start, "unexpected right bracket ']'".to_string()));
                    }
                    self.bracket_open = false;
                    self.emit(TokenKind::RightBracket, start);
                }
                other => {
                    return Err((
                        start,
                        format!("unexpected character: {}", quote_char(other)),
                    ));
                }
            }
        }
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            self.bump();
        }
    }

    fn lex_inside_braces(&mut self, start: usize) -> LexResult {
        let Some(c) = self.bump() else {
            return Err((start, "unexpected end of input inside braces".to_string()));
        };
        match c {
            c if is_space(c) => {}
            c if is_alpha(c) => {
                while self.peek().is_some_and(is_alphanumeric) {
                    self.bump();
                }
                self.emit(TokenKind::Identifier, start);
            }
            ',' => self.emit(TokenKind::Comma, start),
            '"' | '\'' => self.lex_string(start, c)?,
            '`' => self.lex_raw_string(start)?,
            '=' => {
                if self.peek() == Some('~') {
                    self.bump();
                    self.emit(TokenKind::EqlRegex, start);
                } else {
                    self.emit(TokenKind::Eql, start);
                }
            }
            '!' => match self.bump() {
                Some('~') => self.emit(TokenKind::NeqRegex, start),
                Some('=') => self.emit(TokenKind::Neq, start),
                other => {
                    let shown = other.map_or_else(|| "EOF".to_string(), quote_char);
                    return Err((
                        start,
                        format!("unexpected character after '!' inside braces: {shown}"),
                    ));
                }
            },
            '{' => return Err((start, "unexpected left brace '{'".to_string())),
            '}' => {
                self.brace_open = false;
                self.emit(TokenKind::RightBrace, start);
            }
            other => {
                return Err((
                    start,
                    format!("unexpected character inside braces: {}", quote_char(other)),
                ));
            }
        }
        Ok(())
    }

    fn lex_keyword_or_identifier(&mut self, start: usize) {
        let allow_colon = !self.bracket_open;
        while self
            .peek()
            .is_some_and(|c| is_alphanumeric(c) || (allow_colon && c == ':'))
        {
            self.bump();
        }
        let word = &self.input[start..self.pos];
        let kind = match keyword(word) {
            Some(kind) => kind,
            None if word.contains(':') => TokenKind::MetricIdentifier,
            None => TokenKind::Identifier,
        };
        self.emit(kind, start);
    }

    fn lex_string(&mut self, start: usize, quote: char) -> LexResult {
        loop {
            let at = self.pos;
            match self.bump() {
                None | Some('\n') => return Err((start, "unterminated quoted string".to_string())),
                Some('\\') => self.lex_escape(at, quote)?,
                Some(c) if c == quote => break,
                Some(_) => {}
            }
        }
        self.emit(TokenKind::String, start);
        Ok(())
    }

    fn lex_escape(&mut self, at: usize, quote: char) -> LexResult {
        let (count, base, max) = match self.bump() {
            None => return Err((at, "escape sequence not terminated".to_string())),
            Some(c)
                if c == quote || matches!(c, 'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\') =>
            {
                return Ok(());
            }
            Some(c @ '0'..='7') => {
                self.pos -= c.len_utf8();
                (3, 8, 255)
            }
            Some('x') => (2, 16, 255),
            Some('u') => (4, 16, 0x10FFFF),
            Some('U') => (8, 16, 0x10FFFF),
            Some(other) => {
                return Err((
                    at,
                    format!(
                        "unknown escape sequence U+{:04X} {}",
                        other as u32,
                        quote_char(other)
                    ),
                ));
            }
        };
        let mut value: u32 = 0;
        for _ in 0..count {
            match self.bump() {
                None => return Err((at, "escape sequence not terminated".to_string())),
                Some(c) => match c.to_digit(base) {
                    Some(digit) => value = value * base + digit,
                    None => {
                        return Err((
                            at,
                            format!(
                                "illegal character U+{:04X} {} in escape sequence",
                                c as u32,
                                quote_char(c)
                            ),
                        ));
                    }
                },
            }
        }
        if value > max || (0xD800..0xE000).contains(&value) {
            return Err((
                at,
                "escape sequence is an invalid Unicode code point".to_string(),
            ));
        }
        Ok(())
    }

    fn lex_raw_string(&mut self, start: usize) -> LexResult {
        loop {
            match self.bump() {
                None => return Err((start, "unterminated raw string".to_string())),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(TokenKind::String, start);
        Ok(())
    }

    fn lex_number_or_duration(&mut self, start: usize) -> LexResult {
        if self.scan_number() {
            self.emit(TokenKind::Number, start);
            return Ok(());
        }
        self.pos = start;
        if self.scan_duration() {
            self.emit(TokenKind::Duration, start);
            return Ok(());
        }
        self.pos = start;
        while self.peek().is_some_and(|c| is_alphanumeric(c) || c == '.') {
            self.bump();
        }
        Err((
            start,
            format!(
                "bad number or duration syntax: {}",
                go_quote(&self.input[start..self.pos])
            ),
        ))
    }

    /// Scans a decimal or hexadecimal number; false if it runs into a letter (a duration or garbage).
    fn scan_number(&mut self) -> bool {
        let digits_with_underscores = |lexer: &mut Self, radix: u32| {
            let mut any = false;
            while let Some(c) = lexer.peek() {
                if c.is_digit(radix) {
                    any = true;
                    lexer.bump();
                } else if c == '_' && any && lexer.peek_at(1).is_some_and(|n| n.is_digit(radix)) {
                    lexer.bump();
                } else {
                    break;
                }
            }
            any
        };
        if self.peek() == Some('0') && matches!(self.peek_at(1), Some('x' | 'X')) {
            self.bump();
            self.bump();
            if self.peek() == Some('_') {
                self.bump();
            }
            if !digits_with_underscores(self, 16) {
                return false;
            }
        } else {
            let int_part = digits_with_underscores(self, 10);
            let mut frac_part = false;
            if self.peek() == Some('.') {
                self.bump();
                frac_part = digits_with_underscores(self, 10);
            }
            if !int_part && !frac_part {
                return false;
            }
            if matches!(self.peek(), Some('e' | 'E')) {
                let mark = self.pos;
                self.bump();
                if matches!(self.peek(), Some('+' | '-')) {
                    self.bump();
                }
                if !digits_with_underscores(self, 10) {
                    self.pos = mark;
                }
            }
        }
        !self.peek().is_some_and(|c| is_alphanumeric(c) || c == '.')
    }

    /// Scans `[0-9]+unit([0-9]+unit)*` with units `ms s m h d w y`.
    fn scan_duration(&mut self) -> bool {
        let mut parts = 0;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
            match self.peek() {
                Some('m') if self.peek_at(1) == Some('s') => {
                    self.bump();
                    self.bump();
                }
                Some('s' | 'm' | 'h' | 'd' | 'w' | 'y') => {
                    self.bump();
                }
                _ => return false,
            }
            parts += 1;
        }
        parts > 0 && !self.peek().is_some_and(|c| is_alphanumeric(c) || c == '.')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<TokenKind> {
        lex(input).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn numbers_and_durations() {
        for number in [
            "1", "1.5", ".5", "1e3", "1E-3", "0x1f", "0X1F", "1_000", "0x_1f", "Inf", "nan", "INF",
        ] {
            assert_eq!(
                kinds(number),
                vec![TokenKind::Number, TokenKind::Eof],
                "{number}"
            );
        }
        for duration in ["5m", "1h30m", "500ms", "1y", "1w2d", "10s53ms"] {
            assert_eq!(
                kinds(duration),
                vec![TokenKind::Duration, TokenKind::Eof],
                "{duration}"
            );
        }
        assert_eq!(
            kinds("5mm"),
            vec![TokenKind::Error(
                "bad number or duration syntax: \"5mm\"".into()
            )]
        );
    }

    #[test]
    fn strings_and_braces() {
        let tokens = kinds(r#"foo{a="b\"", b!~'x', `raw\`}"#);
        assert_eq!(tokens.len(), 13, "{tokens:?}");
        assert_eq!(
            kinds("{a"),
            vec![
                TokenKind::LeftBrace,
                TokenKind::Identifier,
                TokenKind::Error("unexpected end of input inside braces".into())
            ]
        );
        assert_eq!(
            kinds("\"abc"),
            vec![TokenKind::Error("unterminated quoted string".into())]
        );
    }

    #[test]
    fn keywords_are_case_insensitive_and_colons_make_metric_identifiers() {
        assert_eq!(
            kinds("SUM BY"),
            vec![
                TokenKind::Aggregator(AggregateOp::Sum),
                TokenKind::Keyword(Keyword::By),
                TokenKind::Eof
            ]
        );
        assert_eq!(
            kinds("a:b # comment"),
            vec![TokenKind::MetricIdentifier, TokenKind::Eof]
        );
        assert_eq!(kinds("x[5m:1m]")[3], TokenKind::Colon);
    }

    #[test]
    fn spans_are_byte_offsets() {
        let tokens = lex("rate(foo[5m])");
        assert_eq!(tokens[2].span, Span::new(5, 8));
        assert_eq!(tokens[4].span, Span::new(9, 11));
    }
}
