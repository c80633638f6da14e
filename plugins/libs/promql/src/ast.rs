//! The PromQL abstract syntax tree. Every node carries the byte [`Span`] of the query text it came from,
//! so errors and annotations can point at it. The shapes follow Prometheus' `ast.go`: offsets and `@` of a
//! range selector live on its inner vector selector, and durations may be duration expressions
//! (`[5m+30s]`, `offset (2*2)`, `[step()]`). Printing back to PromQL lives in `printer.rs`.

use crate::functions::{Function, ValueType};

/// A byte range `start..end` in the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A PromQL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Number(NumberLiteral),
    String(StringLiteral),
    VectorSelector(VectorSelector),
    MatrixSelector(MatrixSelector),
    Subquery(SubqueryExpr),
    Paren(ParenExpr),
    Unary(UnaryExpr),
    Binary(BinaryExpr),
    Aggregate(AggregateExpr),
    Call(Call),
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Self::Number(e) => e.span,
            Self::String(e) => e.span,
            Self::VectorSelector(e) => e.span,
            Self::MatrixSelector(e) => e.span,
            Self::Subquery(e) => e.span,
            Self::Paren(e) => e.span,
            Self::Unary(e) => e.span,
            Self::Binary(e) => e.span,
            Self::Aggregate(e) => e.span,
            Self::Call(e) => e.span,
        }
    }

    /// The type the expression evaluates to, as Prometheus' `Expr.Type()`.
    pub fn value_type(&self) -> ValueType {
        match self {
            Self::Number(_) => ValueType::Scalar,
            Self::String(_) => ValueType::String,
            Self::VectorSelector(_) | Self::Aggregate(_) => ValueType::Vector,
            Self::MatrixSelector(_) | Self::Subquery(_) => ValueType::Matrix,
            Self::Paren(e) => e.expr.value_type(),
            Self::Unary(e) => e.expr.value_type(),
            Self::Binary(e) => {
                if e.lhs.value_type() == ValueType::Scalar
                    && e.rhs.value_type() == ValueType::Scalar
                {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            Self::Call(e) => e.func.return_type,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NumberLiteral {
    pub value: f64,
    /// Written as a duration (`5m`); the value is then in seconds.
    pub is_duration: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StringLiteral {
    /// The value; bytes that are not valid UTF-8 (written as `\xc5` or octal escapes) read as U+FFFD.
    pub value: String,
    pub span: Span,
    /// The literal's bytes as Go's `%q` prints them, when they are not valid UTF-8 (Prometheus keeps
    /// such strings and refuses them where a label name is needed).
    pub invalid_utf8: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatcherOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatcherOp {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Equal => "=",
            Self::NotEqual => "!=",
            Self::Regex => "=~",
            Self::NotRegex => "!~",
        }
    }
}

/// One label matcher; regex values were checked to compile at parse time.
#[derive(Debug, Clone, PartialEq)]
pub struct Matcher {
    pub name: String,
    pub op: MatcherOp,
    pub value: String,
}

/// The `@` modifier; a timestamp is in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtModifier {
    Timestamp(i64),
    Start,
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorSelector {
    /// The metric name written before the braces, if any.
    pub name: Option<String>,
    /// The matchers inside the braces, without the one implied by `name`.
    pub matchers: Vec<Matcher>,
    pub offset: Option<DurationExpr>,
    pub at: Option<AtModifier>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatrixSelector {
    /// Carries the offset and `@` of the whole range selector.
    pub selector: VectorSelector,
    pub range: DurationExpr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubqueryExpr {
    pub expr: Box<Expr>,
    pub range: DurationExpr,
    pub step: Option<DurationExpr>,
    pub offset: Option<DurationExpr>,
    pub at: Option<AtModifier>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParenExpr {
    pub expr: Box<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Plus,
    Minus,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnaryExpr {
    pub op: UnaryOp,
    pub expr: Box<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Atan2,
    Eql,
    Neq,
    Gtr,
    Lss,
    Gte,
    Lte,
    And,
    Or,
    Unless,
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "+",
            Self::Sub => "-",
            Self::Mul => "*",
            Self::Div => "/",
            Self::Mod => "%",
            Self::Pow => "^",
            Self::Atan2 => "atan2",
            Self::Eql => "==",
            Self::Neq => "!=",
            Self::Gtr => ">",
            Self::Lss => "<",
            Self::Gte => ">=",
            Self::Lte => "<=",
            Self::And => "and",
            Self::Or => "or",
            Self::Unless => "unless",
        }
    }

    /// Binding strength, higher binds tighter (`or` 1 … `^` 6).
    pub fn precedence(self) -> u8 {
        match self {
            Self::Or => 1,
            Self::And | Self::Unless => 2,
            Self::Eql | Self::Neq | Self::Gtr | Self::Lss | Self::Gte | Self::Lte => 3,
            Self::Add | Self::Sub => 4,
            Self::Mul | Self::Div | Self::Mod | Self::Atan2 => 5,
            Self::Pow => 6,
        }
    }

    pub fn is_comparison(self) -> bool {
        self.precedence() == 3
    }

    pub fn is_set_operator(self) -> bool {
        matches!(self, Self::And | Self::Or | Self::Unless)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorMatchCardinality {
    OneToOne,
    ManyToOne,
    OneToMany,
    ManyToMany,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorMatching {
    pub card: VectorMatchCardinality,
    /// `on(...)` when true, `ignoring(...)` otherwise.
    pub on: bool,
    pub labels: Vec<String>,
    /// The extra labels of `group_left(...)`/`group_right(...)`.
    pub include: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BinaryExpr {
    pub op: BinaryOp,
    pub lhs: Box<Expr>,
    pub rhs: Box<Expr>,
    pub return_bool: bool,
    /// Present only when both sides are instant vectors.
    pub matching: Option<VectorMatching>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateOp {
    Sum,
    Avg,
    Count,
    Min,
    Max,
    Group,
    Stddev,
    Stdvar,
    Topk,
    Bottomk,
    CountValues,
    Quantile,
    Limitk,
    LimitRatio,
}

impl AggregateOp {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sum => "sum",
            Self::Avg => "avg",
            Self::Count => "count",
            Self::Min => "min",
            Self::Max => "max",
            Self::Group => "group",
            Self::Stddev => "stddev",
            Self::Stdvar => "stdvar",
            Self::Topk => "topk",
            Self::Bottomk => "bottomk",
            Self::CountValues => "count_values",
            Self::Quantile => "quantile",
            Self::Limitk => "limitk",
            Self::LimitRatio => "limit_ratio",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        let op = match name {
            "sum" => Self::Sum,
            "avg" => Self::Avg,
            "count" => Self::Count,
            "min" => Self::Min,
            "max" => Self::Max,
            "group" => Self::Group,
            "stddev" => Self::Stddev,
            "stdvar" => Self::Stdvar,
            "topk" => Self::Topk,
            "bottomk" => Self::Bottomk,
            "count_values" => Self::CountValues,
            "quantile" => Self::Quantile,
            "limitk" => Self::Limitk,
            "limit_ratio" => Self::LimitRatio,
            _ => return None,
        };
        Some(op)
    }

    /// The type of the leading parameter, for the aggregations that take one.
    pub fn param_type(self) -> Option<ValueType> {
        match self {
            Self::Topk | Self::Bottomk | Self::Quantile | Self::Limitk | Self::LimitRatio => {
                Some(ValueType::Scalar)
            }
            Self::CountValues => Some(ValueType::String),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AggregateExpr {
    pub op: AggregateOp,
    pub expr: Box<Expr>,
    pub param: Option<Box<Expr>>,
    pub grouping: Vec<String>,
    pub without: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub func: &'static Function,
    pub args: Vec<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

impl DurationOp {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "+",
            Self::Sub => "-",
            Self::Mul => "*",
            Self::Div => "/",
            Self::Mod => "%",
            Self::Pow => "^",
        }
    }

    pub(crate) fn precedence(self) -> u8 {
        match self {
            Self::Add | Self::Sub => 4,
            Self::Mul | Self::Div | Self::Mod => 5,
            Self::Pow => 6,
        }
    }
}

/// A duration: a literal, or a Prometheus 3 duration expression evaluated in seconds.
#[derive(Debug, Clone, PartialEq)]
pub enum DurationExpr {
    /// A number (seconds) or a duration literal such as `5m`.
    Literal {
        seconds: f64,
        is_duration: bool,
        span: Span,
    },
    /// `step()`: the range query step.
    Step {
        span: Span,
    },
    /// `range()`: the range query's end minus start.
    Range {
        span: Span,
    },
    MinOf {
        lhs: Box<DurationExpr>,
        rhs: Box<DurationExpr>,
        span: Span,
    },
    MaxOf {
        lhs: Box<DurationExpr>,
        rhs: Box<DurationExpr>,
        span: Span,
    },
    Unary {
        op: UnaryOp,
        expr: Box<DurationExpr>,
        span: Span,
    },
    Binary {
        op: DurationOp,
        lhs: Box<DurationExpr>,
        rhs: Box<DurationExpr>,
        span: Span,
    },
    Paren {
        expr: Box<DurationExpr>,
        span: Span,
    },
}

impl DurationExpr {
    pub fn span(&self) -> Span {
        match self {
            Self::Literal { span, .. }
            | Self::Step { span }
            | Self::Range { span }
            | Self::MinOf { span, .. }
            | Self::MaxOf { span, .. }
            | Self::Unary { span, .. }
            | Self::Binary { span, .. }
            | Self::Paren { span, .. } => *span,
        }
    }

    /// The value in seconds given the query's step and range (both in seconds).
    pub fn eval_seconds(&self, step: f64, range: f64) -> f64 {
        match self {
            Self::Literal { seconds, .. } => *seconds,
            Self::Step { .. } => step,
            Self::Range { .. } => range,
            Self::MinOf { lhs, rhs, .. } => lhs
                .eval_seconds(step, range)
                .min(rhs.eval_seconds(step, range)),
            Self::MaxOf { lhs, rhs, .. } => lhs
                .eval_seconds(step, range)
                .max(rhs.eval_seconds(step, range)),
            Self::Unary {
                op: UnaryOp::Minus,
                expr,
                ..
            } => -expr.eval_seconds(step, range),
            Self::Unary { expr, .. } | Self::Paren { expr, .. } => expr.eval_seconds(step, range),
            Self::Binary { op, lhs, rhs, .. } => {
                let (l, r) = (lhs.eval_seconds(step, range), rhs.eval_seconds(step, range));
                match op {
                    DurationOp::Add => l + r,
                    DurationOp::Sub => l - r,
                    DurationOp::Mul => l * r,
                    DurationOp::Div => l / r,
                    DurationOp::Mod => l % r,
                    DurationOp::Pow => l.powf(r),
                }
            }
        }
    }

    /// The value in seconds when it does not depend on `step()` or `range()`.
    pub fn constant_seconds(&self) -> Option<f64> {
        if self.uses_query_params() {
            None
        } else {
            Some(self.eval_seconds(0.0, 0.0))
        }
    }

    fn uses_query_params(&self) -> bool {
        match self {
            Self::Literal { .. } => false,
            Self::Step { .. } | Self::Range { .. } => true,
            Self::MinOf { lhs, rhs, .. }
            | Self::MaxOf { lhs, rhs, .. }
            | Self::Binary { lhs, rhs, .. } => lhs.uses_query_params() || rhs.uses_query_params(),
            Self::Unary { expr, .. } | Self::Paren { expr, .. } => expr.uses_query_params(),
        }
    }
}
