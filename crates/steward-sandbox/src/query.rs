//! OData query options: `$filter` (parser and evaluator), `$select`, `$orderby`, `$top`, paging.

use base64::Engine as _;
use serde_json::{Map, Value};

/// Graph's largest `$top`.
pub const MAX_TOP: usize = 999;

/// The query options of one request, decoded.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Every option as received (decoded), in order, for building `@odata.nextLink`.
    pub pairs: Vec<(String, String)>,
    pub filter: Option<String>,
    pub select: Option<Vec<String>>,
    pub top: Option<String>,
    pub skiptoken: Option<String>,
    pub count: Option<String>,
    pub orderby: Option<String>,
    pub search: Option<String>,
    pub expand: Option<String>,
    pub skip: Option<String>,
}

fn decode(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8_lossy()
        .into_owned()
}

impl Options {
    /// Parses a raw query string (`a=b&c=d`, percent- or plus-encoded).
    pub fn parse(raw: Option<&str>) -> Options {
        let mut o = Options::default();
        let Some(raw) = raw else { return o };
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let k = decode(k);
            let v = decode(v);
            match k.to_ascii_lowercase().as_str() {
                "$filter" => o.filter = Some(v.clone()),
                "$select" => {
                    o.select = Some(
                        v.split(',')
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    )
                }
                "$top" => o.top = Some(v.clone()),
                "$skiptoken" => o.skiptoken = Some(v.clone()),
                "$count" => o.count = Some(v.clone()),
                "$orderby" => o.orderby = Some(v.clone()),
                "$search" => o.search = Some(v.clone()),
                "$expand" => o.expand = Some(v.clone()),
                "$skip" => o.skip = Some(v.clone()),
                _ => {}
            }
            o.pairs.push((k, v));
        }
        o
    }

    /// Whether `$count=true` was asked for.
    pub fn wants_count(&self) -> bool {
        self.count
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("true"))
    }

    /// Whether any option other than paging ones was given.
    pub fn has_any(&self) -> bool {
        self.pairs.iter().any(|(k, _)| k.starts_with('$'))
    }
}

/// Encodes a page offset as an opaque `$skiptoken`.
pub fn skiptoken(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("sandbox-offset:{offset}"))
}

/// Decodes a `$skiptoken`; `None` if it is not one of ours.
pub fn parse_skiptoken(token: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix("sandbox-offset:")?.parse().ok()
}

const QUERY_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'>')
    .add(b'=');

/// Builds a query string from decoded pairs.
pub fn encode_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                percent_encoding::utf8_percent_encode(k, QUERY_ENCODE),
                percent_encoding::utf8_percent_encode(v, QUERY_ENCODE)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The slice `[start, end)` of a `total`-long collection a page starting at `offset` covers;
/// a next page exists when `end < total`.
pub fn page_bounds(total: usize, offset: usize, page_size: usize) -> (usize, usize) {
    let start = offset.min(total);
    (start, start.saturating_add(page_size).min(total))
}

/// Keeps only the selected top-level properties (and `@odata.type`).
pub fn select(obj: &Value, props: &[String]) -> Value {
    let Value::Object(map) = obj else {
        return obj.clone();
    };
    let mut out = Map::new();
    if let Some(t) = map.get("@odata.type") {
        out.insert("@odata.type".into(), t.clone());
    }
    for p in props {
        if let Some((k, v)) = map.iter().find(|(k, _)| k.eq_ignore_ascii_case(p)) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// Sorts by `$orderby` (`prop [asc|desc]`, comma-separated).
pub fn order_by(items: &mut [Value], spec: &str) -> Result<(), String> {
    let mut keys = Vec::new();
    for part in spec.split(',') {
        let mut words = part.split_whitespace();
        let Some(prop) = words.next() else { continue };
        let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => return Err(format!("Invalid $orderby direction '{other}'.")),
        };
        keys.push((prop.to_string(), desc));
    }
    items.sort_by(|a, b| {
        for (prop, desc) in &keys {
            let ord = compare(
                &resolve(a, std::slice::from_ref(prop), &[]).unwrap_or(Value::Null),
                &resolve(b, std::slice::from_ref(prop), &[]).unwrap_or(Value::Null),
            )
            .unwrap_or(std::cmp::Ordering::Equal);
            let ord = if *desc { ord.reverse() } else { ord };
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        std::cmp::Ordering::Equal
    });
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// $filter

/// A parsed `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(Value),
    Path(Vec<String>),
    Call(String, Vec<Expr>),
    Lambda {
        path: Vec<String>,
        all: bool,
        var: String,
        body: Box<Expr>,
    },
    Bin(Box<Expr>, Op, Box<Expr>),
    In(Box<Expr>, Vec<Expr>),
    Not(Box<Expr>),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Has,
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    LParen,
    RParen,
    Comma,
    Colon,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            ':' => {
                out.push(Tok::Colon);
                i += 1
            }
            '\'' => {
                let mut lit = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("Unterminated string literal in $filter.".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            lit.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            lit.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(lit));
            }
            _ => {
                let start = i;
                // A word starting with a digit may be a date-time literal, which holds ':'.
                let numeric = c.is_ascii_digit() || c == '-';
                while i < chars.len() {
                    let ch = chars[i];
                    if matches!(ch, ' ' | '\t' | '(' | ')' | ',' | '\'') || (ch == ':' && !numeric)
                    {
                        break;
                    }
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

/// Deepest expression accepted, counting every operator (`not`, each `and`/`or` of a chain,
/// comparisons, calls, lambdas, parentheses), so a hostile filter cannot exhaust the stack
/// while parsing, evaluating or dropping it.
const MAX_DEPTH: usize = 64;

const TOO_DEEP: &str = "Invalid $filter: the expression is nested too deeply.";

/// Height of an expression tree. Only called on trees built by the parser, whose subtrees
/// were checked already, so the recursion is bounded by [`MAX_DEPTH`].
fn height(e: &Expr) -> usize {
    1 + match e {
        Expr::Lit(_) | Expr::Path(_) => 0,
        Expr::Not(a) => height(a),
        Expr::Bin(a, _, b) => height(a).max(height(b)),
        Expr::In(a, items) => items.iter().map(height).fold(height(a), usize::max),
        Expr::Call(_, args) => args.iter().map(height).max().unwrap_or(0),
        Expr::Lambda { body, .. } => height(body),
    }
}

/// `e` if it is no deeper than [`MAX_DEPTH`] with `extra` levels above it.
fn bounded(e: Expr, extra: usize) -> Result<Expr, String> {
    if height(&e).saturating_add(extra) > MAX_DEPTH {
        Err(TOO_DEEP.into())
    } else {
        Ok(e)
    }
}

/// Parses a `$filter` expression.
pub fn parse_filter(s: &str) -> Result<Expr, String> {
    let mut p = Parser {
        toks: lex(s)?,
        pos: 0,
        depth: 0,
    };
    let e = p.or_expr()?;
    if p.pos != p.toks.len() {
        return Err(format!(
            "Invalid $filter: unexpected '{}'.",
            p.describe(p.pos)
        ));
    }
    Ok(e)
}

impl Parser {
    fn describe(&self, pos: usize) -> String {
        match self.toks.get(pos) {
            Some(Tok::Word(w)) => w.clone(),
            Some(Tok::Str(s)) => format!("'{s}'"),
            Some(Tok::LParen) => "(".into(),
            Some(Tok::RParen) => ")".into(),
            Some(Tok::Comma) => ",".into(),
            Some(Tok::Colon) => ":".into(),
            None => "end of expression".into(),
        }
    }

    fn peek_word(&self) -> Option<String> {
        match self.toks.get(self.pos) {
            Some(Tok::Word(w)) => Some(w.to_ascii_lowercase()),
            _ => None,
        }
    }

    fn expect(&mut self, t: Tok) -> Result<(), String> {
        if self.toks.get(self.pos) == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!(
                "Invalid $filter: expected {:?} but found '{}'.",
                t,
                self.describe(self.pos)
            ))
        }
    }

    fn or_expr(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(TOO_DEEP.into());
        }
        let mut left = self.and_expr()?;
        while self.peek_word().as_deref() == Some("or") {
            self.pos += 1;
            let right = self.and_expr()?;
            // A chain builds a left-deep tree: each `or` is one level more.
            left = bounded(Expr::Bin(Box::new(left), Op::Or, Box::new(right)), 0)?;
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, String> {
        let mut left = self.not_expr()?;
        while self.peek_word().as_deref() == Some("and") {
            self.pos += 1;
            let right = self.not_expr()?;
            left = bounded(Expr::Bin(Box::new(left), Op::And, Box::new(right)), 0)?;
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<Expr, String> {
        let mut negations = 0;
        while self.peek_word().as_deref() == Some("not") {
            self.pos += 1;
            negations += 1;
            if negations > MAX_DEPTH {
                return Err(TOO_DEEP.into());
            }
        }
        let mut e = bounded(self.cmp_expr()?, negations)?;
        for _ in 0..negations {
            e = Expr::Not(Box::new(e));
        }
        Ok(e)
    }

    fn cmp_expr(&mut self) -> Result<Expr, String> {
        let left = self.primary()?;
        let op = match self.peek_word().as_deref() {
            Some("eq") => Op::Eq,
            Some("ne") => Op::Ne,
            Some("gt") => Op::Gt,
            Some("ge") => Op::Ge,
            Some("lt") => Op::Lt,
            Some("le") => Op::Le,
            Some("has") => Op::Has,
            Some("in") => {
                self.pos += 1;
                self.expect(Tok::LParen)?;
                let mut items = Vec::new();
                loop {
                    items.push(self.primary()?);
                    match self.toks.get(self.pos) {
                        Some(Tok::Comma) => self.pos += 1,
                        Some(Tok::RParen) => {
                            self.pos += 1;
                            break;
                        }
                        _ => {
                            return Err(format!(
                                "Invalid $filter: expected ',' or ')' in 'in' list, found '{}'.",
                                self.describe(self.pos)
                            ));
                        }
                    }
                }
                return bounded(Expr::In(Box::new(left), items), 0);
            }
            _ => return Ok(left),
        };
        self.pos += 1;
        let right = self.primary()?;
        bounded(Expr::Bin(Box::new(left), op, Box::new(right)), 0)
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::LParen) => {
                self.pos += 1;
                let e = self.or_expr()?;
                self.expect(Tok::RParen)?;
                Ok(e)
            }
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Expr::Lit(Value::String(s)))
            }
            Some(Tok::Word(w)) => {
                self.pos += 1;
                if self.toks.get(self.pos) == Some(&Tok::LParen) {
                    self.pos += 1;
                    return self.call(&w);
                }
                Ok(word_literal(&w))
            }
            _ => Err(format!(
                "Invalid $filter: unexpected '{}'.",
                self.describe(self.pos)
            )),
        }
    }

    /// After `name(`: a function call or a lambda (`path/any(x: …)`).
    fn call(&mut self, name: &str) -> Result<Expr, String> {
        let segments: Vec<String> = name.split('/').map(String::from).collect();
        let last = segments.last().map(|s| s.to_ascii_lowercase());
        if segments.len() > 1 && matches!(last.as_deref(), Some("any") | Some("all")) {
            let all = last.as_deref() == Some("all");
            let path = segments[..segments.len() - 1].to_vec();
            if self.toks.get(self.pos) == Some(&Tok::RParen) {
                self.pos += 1;
                return Ok(Expr::Lambda {
                    path,
                    all,
                    var: String::new(),
                    body: Box::new(Expr::Lit(Value::Bool(true))),
                });
            }
            let var = match self.toks.get(self.pos) {
                Some(Tok::Word(v)) => v.clone(),
                _ => return Err("Invalid $filter: expected a lambda variable.".into()),
            };
            self.pos += 1;
            self.expect(Tok::Colon)?;
            let body = self.or_expr()?;
            self.expect(Tok::RParen)?;
            return bounded(
                Expr::Lambda {
                    path,
                    all,
                    var,
                    body: Box::new(body),
                },
                0,
            );
        }
        let fname = name.to_ascii_lowercase();
        if !matches!(
            fname.as_str(),
            "startswith" | "endswith" | "contains" | "isof" | "tolower" | "toupper"
        ) {
            return Err(format!("Invalid $filter: unsupported function '{name}'."));
        }
        let mut args = Vec::new();
        if self.toks.get(self.pos) == Some(&Tok::RParen) {
            self.pos += 1;
        } else {
            loop {
                args.push(self.or_expr()?);
                match self.toks.get(self.pos) {
                    Some(Tok::Comma) => self.pos += 1,
                    Some(Tok::RParen) => {
                        self.pos += 1;
                        break;
                    }
                    _ => {
                        return Err(format!(
                            "Invalid $filter: expected ',' or ')' in call to '{name}'."
                        ));
                    }
                }
            }
        }
        bounded(Expr::Call(fname, args), 0)
    }
}

fn word_literal(w: &str) -> Expr {
    match w.to_ascii_lowercase().as_str() {
        "true" => return Expr::Lit(Value::Bool(true)),
        "false" => return Expr::Lit(Value::Bool(false)),
        "null" => return Expr::Lit(Value::Null),
        _ => {}
    }
    if let Ok(n) = w.parse::<i64>() {
        return Expr::Lit(Value::from(n));
    }
    if let Ok(f) = w.parse::<f64>()
        && w.chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '-')
    {
        return Expr::Lit(Value::from(f));
    }
    // Unquoted GUIDs and date-times are literals in OData.
    if uuid::Uuid::parse_str(w).is_ok() || chrono::DateTime::parse_from_rfc3339(w).is_ok() {
        return Expr::Lit(Value::String(w.to_string()));
    }
    Expr::Path(w.split('/').map(String::from).collect())
}

impl Expr {
    /// The top-level property names the expression reads (not lambda variables).
    pub fn properties(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_props(&mut Vec::new(), &mut out);
        out
    }

    fn collect_props(&self, vars: &mut Vec<String>, out: &mut Vec<String>) {
        match self {
            Expr::Lit(_) => {}
            Expr::Path(p) => {
                if let Some(first) = p.iter().find(|s| !s.contains('.'))
                    && !vars.contains(first)
                {
                    out.push(first.clone());
                }
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.collect_props(vars, out)),
            Expr::Lambda {
                path, var, body, ..
            } => {
                Expr::Path(path.clone()).collect_props(vars, out);
                vars.push(var.clone());
                body.collect_props(vars, out);
                vars.pop();
            }
            Expr::Bin(a, _, b) => {
                a.collect_props(vars, out);
                b.collect_props(vars, out);
            }
            Expr::In(a, items) => {
                a.collect_props(vars, out);
                items.iter().for_each(|i| i.collect_props(vars, out));
            }
            Expr::Not(a) => a.collect_props(vars, out),
        }
    }

    /// Whether the expression needs Graph's advanced query mode (`endswith`, `ne`, `not`).
    pub fn is_advanced(&self) -> bool {
        match self {
            Expr::Call(name, args) => {
                name == "endswith" || name == "contains" || args.iter().any(Expr::is_advanced)
            }
            Expr::Bin(a, op, b) => *op == Op::Ne || a.is_advanced() || b.is_advanced(),
            Expr::Not(_) => true,
            Expr::Lambda { body, .. } => body.is_advanced(),
            Expr::In(a, _) => a.is_advanced(),
            _ => false,
        }
    }

    /// Evaluates the expression against one object.
    pub fn matches(&self, item: &Value) -> bool {
        truthy(&self.eval(item, &[]))
    }

    fn eval(&self, item: &Value, vars: &[(String, Value)]) -> Value {
        match self {
            Expr::Lit(v) => v.clone(),
            Expr::Path(p) => resolve(item, p, vars).unwrap_or(Value::Null),
            Expr::Not(a) => Value::Bool(!truthy(&a.eval(item, vars))),
            Expr::Bin(a, Op::And, b) => {
                Value::Bool(truthy(&a.eval(item, vars)) && truthy(&b.eval(item, vars)))
            }
            Expr::Bin(a, Op::Or, b) => {
                Value::Bool(truthy(&a.eval(item, vars)) || truthy(&b.eval(item, vars)))
            }
            Expr::Bin(a, op, b) => {
                let (l, r) = (a.eval(item, vars), b.eval(item, vars));
                Value::Bool(match op {
                    Op::Eq => loose_eq(&l, &r),
                    Op::Ne => !loose_eq(&l, &r),
                    Op::Has => has_flags(&l, &r),
                    Op::Gt => compare(&l, &r) == Some(std::cmp::Ordering::Greater),
                    Op::Ge => matches!(
                        compare(&l, &r),
                        Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
                    ),
                    Op::Lt => compare(&l, &r) == Some(std::cmp::Ordering::Less),
                    Op::Le => matches!(
                        compare(&l, &r),
                        Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
                    ),
                    Op::And | Op::Or => false,
                })
            }
            Expr::In(a, items) => {
                let l = a.eval(item, vars);
                Value::Bool(items.iter().any(|i| loose_eq(&l, &i.eval(item, vars))))
            }
            Expr::Lambda {
                path,
                all,
                var,
                body,
            } => {
                let coll = resolve(item, path, vars).unwrap_or(Value::Null);
                let Value::Array(elems) = coll else {
                    return Value::Bool(false);
                };
                let test = |e: &Value| {
                    let mut scope = vars.to_vec();
                    scope.push((var.clone(), e.clone()));
                    truthy(&body.eval(item, &scope))
                };
                Value::Bool(if *all {
                    elems.iter().all(test)
                } else {
                    elems.iter().any(test)
                })
            }
            Expr::Call(name, args) => {
                let vals: Vec<Value> = args.iter().map(|a| a.eval(item, vars)).collect();
                match name.as_str() {
                    "tolower" => str_arg(&vals, 0)
                        .map(|s| Value::String(s.to_lowercase()))
                        .unwrap_or(Value::Null),
                    "toupper" => str_arg(&vals, 0)
                        .map(|s| Value::String(s.to_uppercase()))
                        .unwrap_or(Value::Null),
                    "isof" => {
                        let (target, ty) = match args.len() {
                            1 => (item.clone(), str_arg(&vals, 0)),
                            _ => (
                                vals.first().cloned().unwrap_or(Value::Null),
                                str_arg(&vals, 1),
                            ),
                        };
                        let actual = target.get("@odata.type").and_then(Value::as_str);
                        Value::Bool(match (actual, ty) {
                            (Some(a), Some(t)) => super::csdl::full_type_name(a)
                                .eq_ignore_ascii_case(&super::csdl::full_type_name(&t)),
                            _ => false,
                        })
                    }
                    _ => {
                        let (Some(s), Some(p)) = (str_arg(&vals, 0), str_arg(&vals, 1)) else {
                            return Value::Bool(false);
                        };
                        let (s, p) = (s.to_lowercase(), p.to_lowercase());
                        Value::Bool(match name.as_str() {
                            "startswith" => s.starts_with(&p),
                            "endswith" => s.ends_with(&p),
                            _ => s.contains(&p),
                        })
                    }
                }
            }
        }
    }
}

fn str_arg(vals: &[Value], i: usize) -> Option<String> {
    vals.get(i).and_then(Value::as_str).map(String::from)
}

fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

fn resolve(item: &Value, path: &[String], vars: &[(String, Value)]) -> Option<Value> {
    let mut segs = path.iter();
    let mut cur = match path.first() {
        Some(first) => match vars.iter().rev().find(|(n, _)| n == first) {
            Some((_, v)) => {
                segs.next();
                v.clone()
            }
            None => item.clone(),
        },
        None => return None,
    };
    for seg in segs {
        if seg.contains('.') {
            // A type cast: only objects of that type (or derived) pass.
            let actual = cur.get("@odata.type").and_then(Value::as_str)?;
            if !super::csdl::full_type_name(actual)
                .eq_ignore_ascii_case(&super::csdl::full_type_name(seg))
            {
                return None;
            }
            continue;
        }
        cur = match &cur {
            Value::Object(m) => m
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(seg))
                .map(|(_, v)| v.clone())?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Case-insensitive for strings (as Graph's directory is), numeric for numbers.
fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::Number(y)) | (Value::Number(y), Value::String(x)) => {
            x.parse::<f64>().ok() == y.as_f64()
        }
        _ => a == b,
    }
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => {
            match (
                chrono::DateTime::parse_from_rfc3339(x),
                chrono::DateTime::parse_from_rfc3339(y),
            ) {
                (Ok(dx), Ok(dy)) => Some(dx.cmp(&dy)),
                _ => Some(x.to_lowercase().cmp(&y.to_lowercase())),
            }
        }
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Null, Value::Null) => Some(std::cmp::Ordering::Equal),
        (Value::Null, _) => Some(std::cmp::Ordering::Less),
        (_, Value::Null) => Some(std::cmp::Ordering::Greater),
        _ => None,
    }
}

/// Flags-enum `has`: every mode on the right is in the left value.
fn has_flags(a: &Value, b: &Value) -> bool {
    let (Some(l), Some(r)) = (a.as_str(), b.as_str()) else {
        return false;
    };
    let left: Vec<String> = l.split(',').map(|s| s.trim().to_lowercase()).collect();
    r.split(',')
        .map(|s| s.trim().to_lowercase())
        .all(|m| left.contains(&m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(s: &str) -> Expr {
        parse_filter(s).unwrap()
    }

    #[test]
    fn eq_on_strings_is_case_insensitive() {
        assert!(f("displayName eq 'ADELE'").matches(&json!({"displayName": "Adele"})));
        assert!(!f("displayName eq 'Bob'").matches(&json!({"displayName": "Adele"})));
    }

    #[test]
    fn in_and_and_combine() {
        let e = f("policyType in ('custom', 'builtIn') and displayName eq 'x'");
        assert!(e.matches(&json!({"policyType": "custom", "displayName": "x"})));
        assert!(!e.matches(&json!({"policyType": "other", "displayName": "x"})));
    }

    #[test]
    fn startswith_with_space_after_comma() {
        assert!(f("startswith(displayName, 'a')").matches(&json!({"displayName": "Alice"})));
        assert!(!f("startswith(displayName,'b')").matches(&json!({"displayName": "Alice"})));
    }

    #[test]
    fn unquoted_guid_and_datetime_literals() {
        let e = f("assignedLicenses/any(u:u/skuId eq cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46)");
        assert!(e.matches(
            &json!({"assignedLicenses": [{"skuId": "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"}]})
        ));
        let d = f("createdDateTime ge 2019-09-01T00:00:00Z");
        assert!(d.matches(&json!({"createdDateTime": "2020-01-01T00:00:00Z"})));
        assert!(!d.matches(&json!({"createdDateTime": "2018-01-01T00:00:00Z"})));
    }

    #[test]
    fn lambda_with_has_on_flags() {
        let e = f("allowedCombinations/any(x:x has 'sms, password')");
        assert!(e.matches(&json!({"allowedCombinations": ["fido2", "password,sms"]})));
        assert!(!e.matches(&json!({"allowedCombinations": ["fido2"]})));
    }

    #[test]
    fn isof_and_cast_lambda() {
        let ip = json!({"@odata.type": "#microsoft.graph.ipNamedLocation"});
        assert!(f("isof('microsoft.graph.ipNamedLocation')").matches(&ip));
        let c = json!({"@odata.type": "#microsoft.graph.countryNamedLocation",
            "countriesAndRegions": ["CA"]});
        assert!(
            f("microsoft.graph.countryNamedLocation/countriesAndRegions/any(c: c eq 'CA')")
                .matches(&c)
        );
        assert!(!f("isof('microsoft.graph.ipNamedLocation')").matches(&c));
    }

    #[test]
    fn lambda_with_two_conditions() {
        let e = f(
            "identities/any(c:c/issuerAssignedId eq 'j.smith@yahoo.com' and c/issuer eq 'My B2C tenant')",
        );
        assert!(e.matches(&json!({"identities": [
            {"issuer": "My B2C tenant", "issuerAssignedId": "j.smith@yahoo.com"}]})));
        assert_eq!(e.properties(), vec!["identities".to_string()]);
    }

    #[test]
    fn plus_encoded_spaces_decode() {
        let o = Options::parse(Some(
            "$filter=hasMembersWithLicenseErrors+eq+true&$count=true",
        ));
        let e = f(o.filter.as_deref().unwrap());
        assert!(e.matches(&json!({"hasMembersWithLicenseErrors": true})));
        assert!(o.wants_count());
    }

    #[test]
    fn malformed_filters_are_errors() {
        assert!(parse_filter("displayName eq").is_err());
        assert!(parse_filter("displayName eq 'x").is_err());
        assert!(parse_filter("frobnicate(x)").is_err());
        assert!(parse_filter("(a eq 1").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}a eq 1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse_filter(&deep).is_err());
        let nots = format!("{}a eq 1", "not ".repeat(10_000));
        assert!(parse_filter(&nots).is_err());
    }

    #[test]
    fn every_operator_counts_towards_the_depth_limit() {
        let too_deep = [
            format!("{}a eq 1", "not ".repeat(4_000)),
            format!("{}a eq 1{}", "not (".repeat(100), ")".repeat(100)),
            vec!["a eq 1"; 4_000].join(" and "),
            vec!["a eq 1"; 4_000].join(" or "),
            format!("{}a{}", "tolower(".repeat(4_000), ")".repeat(4_000)),
            format!("{}c eq 1{}", "x/any(c: ".repeat(4_000), ")".repeat(4_000)),
        ];
        for filter in &too_deep {
            assert_eq!(
                parse_filter(filter),
                Err(TOO_DEEP.to_string()),
                "{}",
                &filter[..40]
            );
        }
        let fine = [
            format!("{}a eq 1", "not ".repeat(10)),
            format!("{}a eq 1{}", "not (".repeat(20), ")".repeat(20)),
            vec!["a eq 1"; 20].join(" or "),
            "not (a eq 1 and (b eq 2 or startswith(c,'x')))".to_string(),
        ];
        for filter in &fine {
            assert!(parse_filter(filter).is_ok(), "{filter}");
        }
    }

    #[test]
    fn advanced_operators_are_detected() {
        assert!(f("endswith(mail,'a@contoso.com')").is_advanced());
        assert!(f("not (displayName eq 'x')").is_advanced());
        assert!(!f("startswith(displayName,'a')").is_advanced());
    }

    #[test]
    fn skiptoken_round_trips_and_rejects_foreign_tokens() {
        assert_eq!(parse_skiptoken(&skiptoken(42)), Some(42));
        assert_eq!(parse_skiptoken("X'4453'"), None);
    }

    #[test]
    fn pages_cover_the_collection_once() {
        let mut covered = Vec::new();
        let mut offset = 0;
        loop {
            let (start, end) = page_bounds(7, offset, 3);
            covered.extend(start..end);
            if end >= 7 {
                break;
            }
            offset = end;
        }
        assert_eq!(covered, (0..7).collect::<Vec<_>>());
        assert_eq!(
            page_bounds(2, 5, 3),
            (2, 2),
            "an offset past the end is an empty page"
        );
        assert_eq!(page_bounds(0, 0, 100), (0, 0));
        assert_eq!(page_bounds(5, 0, usize::MAX), (0, 5));
    }

    #[test]
    fn orderby_desc() {
        let mut v = vec![json!({"n": "a"}), json!({"n": "c"}), json!({"n": "b"})];
        order_by(&mut v, "n desc").unwrap();
        assert_eq!(
            v,
            vec![json!({"n": "c"}), json!({"n": "b"}), json!({"n": "a"})]
        );
    }
}
