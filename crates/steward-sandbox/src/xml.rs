//! Just enough XML to read SharePoint CSOM requests: elements, attributes, text and the five
//! named entities plus numeric ones. No namespaces beyond keeping the prefix-free local name,
//! no DTDs. Malformed input is an error, never a panic.

/// One element.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Element {
    /// Local name (any `prefix:` dropped).
    pub name: String,
    /// Attributes in document order, values unescaped.
    pub attributes: Vec<(String, String)>,
    /// Child elements.
    pub children: Vec<Element>,
    /// Text content directly inside the element, unescaped.
    pub text: String,
}

impl Element {
    /// The value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// Parses a document into its root element.
pub fn parse(input: &str) -> Result<Element, String> {
    let mut p = Parser {
        s: input.as_bytes(),
        i: 0,
    };
    p.skip_misc()?;
    let root = p.element()?;
    p.skip_misc()?;
    if p.i != p.s.len() {
        return Err(format!(
            "unexpected content after the root element at byte {}",
            p.i
        ));
    }
    Ok(root)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self, prefix: &str) -> bool {
        self.s[self.i..].starts_with(prefix.as_bytes())
    }

    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn skip_until(&mut self, end: &str) -> Result<(), String> {
        match find(&self.s[self.i..], end.as_bytes()) {
            Some(at) => {
                self.i += at + end.len();
                Ok(())
            }
            None => Err(format!("unterminated construct, `{end}` missing")),
        }
    }

    /// Whitespace, the prolog, comments and processing instructions.
    fn skip_misc(&mut self) -> Result<(), String> {
        loop {
            self.skip_ws();
            if self.peek("<?") {
                self.skip_until("?>")?;
            } else if self.peek("<!--") {
                self.skip_until("-->")?;
            } else {
                return Ok(());
            }
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let start = self.i;
        while self.i < self.s.len() {
            let c = self.s[self.i];
            if c.is_ascii_whitespace() || matches!(c, b'>' | b'/' | b'=') {
                break;
            }
            self.i += 1;
        }
        if start == self.i {
            return Err(format!("a name was expected at byte {start}"));
        }
        let raw = std::str::from_utf8(&self.s[start..self.i])
            .map_err(|_| "a name is not UTF-8".to_string())?;
        Ok(raw.rsplit(':').next().unwrap_or(raw).to_string())
    }

    fn element(&mut self) -> Result<Element, String> {
        if !self.peek("<") {
            return Err(format!("an element was expected at byte {}", self.i));
        }
        self.i += 1;
        let mut element = Element {
            name: self.name()?,
            ..Element::default()
        };
        loop {
            self.skip_ws();
            if self.peek("/>") {
                self.i += 2;
                return Ok(element);
            }
            if self.peek(">") {
                self.i += 1;
                break;
            }
            let key = self.name()?;
            self.skip_ws();
            if !self.peek("=") {
                return Err(format!("attribute `{key}` has no value"));
            }
            self.i += 1;
            self.skip_ws();
            let quote = *self.s.get(self.i).ok_or("the document ends inside a tag")?;
            if quote != b'"' && quote != b'\'' {
                return Err(format!("attribute `{key}`'s value is not quoted"));
            }
            self.i += 1;
            let start = self.i;
            let end = self.s[start..]
                .iter()
                .position(|c| *c == quote)
                .ok_or_else(|| format!("attribute `{key}`'s value is not closed"))?;
            self.i = start + end + 1;
            let value = unescape(&self.s[start..start + end])?;
            element.attributes.push((key, value));
        }
        loop {
            if self.i >= self.s.len() {
                return Err(format!("element `{}` is not closed", element.name));
            }
            if self.peek("</") {
                self.i += 2;
                let name = self.name()?;
                if name != element.name {
                    return Err(format!("`</{name}>` closes `<{}>`", element.name));
                }
                self.skip_ws();
                if !self.peek(">") {
                    return Err(format!("`</{name}` is not closed"));
                }
                self.i += 1;
                return Ok(element);
            }
            if self.peek("<!--") {
                self.skip_until("-->")?;
            } else if self.peek("<![CDATA[") {
                self.i += 9;
                let start = self.i;
                self.skip_until("]]>")?;
                element
                    .text
                    .push_str(&String::from_utf8_lossy(&self.s[start..self.i - 3]));
            } else if self.peek("<") {
                element.children.push(self.element()?);
            } else {
                let start = self.i;
                while self.i < self.s.len() && self.s[self.i] != b'<' {
                    self.i += 1;
                }
                element.text.push_str(&unescape(&self.s[start..self.i])?);
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn unescape(raw: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "text is not UTF-8".to_string())?;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after
            .find(';')
            .ok_or_else(|| "an entity is not closed with `;`".to_string())?;
        let entity = &after[..end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| format!("`&{e};` is not a character"))?,
            e if e.starts_with('#') => e[1..]
                .parse::<u32>()
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| format!("`&{e};` is not a character"))?,
            e => return Err(format!("unknown entity `&{e};`")),
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csom_request_parses_into_elements_attributes_and_text() {
        let doc = r#"<?xml version="1.0"?><Request xmlns="http://schemas.microsoft.com/sharepoint/clientquery/2009"><Actions><SetProperty Id="42" ObjectPathId="7" Name="SharingCapability"><Parameter Type="String">1</Parameter></SetProperty></Actions><ObjectPaths><Identity Id="7" Name="a|b&#xA;Tenant" /></ObjectPaths></Request>"#;
        let root = parse(doc).unwrap_or_default();
        assert_eq!(root.name, "Request");
        let set = &root.children[0].children[0];
        assert_eq!(set.attr("Name"), Some("SharingCapability"));
        assert_eq!(set.children[0].text, "1");
        assert_eq!(
            root.children[1].children[0].attr("Name"),
            Some("a|b\nTenant")
        );
    }

    #[test]
    fn malformed_documents_are_errors_not_panics() {
        for doc in [
            "",
            "<",
            "<a",
            "<a>",
            "<a></b>",
            "<a x=1/>",
            "<a x=\"1/>",
            "<a>&bogus;</a>",
            "<a>&#xFFFFFFFF;</a>",
            "<a/><b/>",
            "<a>\u{e9}</a",
        ] {
            assert!(parse(doc).is_err(), "{doc:?}");
        }
    }
}
