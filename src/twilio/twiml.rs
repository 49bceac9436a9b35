//! TwiML: the voice verbs we send (rendered with proper XML escaping) and the parser the
//! emulator uses to run them.

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::{Reader, Writer};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verb {
    Say {
        text: String,
        voice: Option<String>,
        language: Option<String>,
        loop_count: Option<u32>,
    },
    Play {
        url: String,
        loop_count: Option<u32>,
    },
    Pause {
        length: Option<u32>,
    },
    Gather(Gather),
    Redirect {
        url: String,
        method: Option<String>,
    },
    Hangup,
    Dial {
        number: String,
        caller_id: Option<String>,
        timeout: Option<u32>,
        /// Where the carrier reports the dialed leg (DialCallStatus, DialCallDuration, ...).
        action: Option<String>,
        /// Seconds the dialed leg may last.
        time_limit: Option<u32>,
    },
    Record {
        action: Option<String>,
        max_length: Option<u32>,
        finish_on_key: Option<String>,
    },
    Reject {
        reason: Option<String>,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gather {
    pub input: Option<String>,
    pub num_digits: Option<u32>,
    pub timeout: Option<u32>,
    pub action: Option<String>,
    pub method: Option<String>,
    pub finish_on_key: Option<String>,
    /// Say, Play and Pause played while waiting for digits.
    pub nested: Vec<Verb>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VoiceResponse {
    pub verbs: Vec<Verb>,
}

impl VoiceResponse {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn verb(mut self, verb: Verb) -> Self {
        self.verbs.push(verb);
        self
    }

    pub fn say(self, text: impl Into<String>, voice: Option<&str>, language: Option<&str>) -> Self {
        self.verb(Verb::Say {
            text: text.into(),
            voice: voice.map(str::to_owned),
            language: language.map(str::to_owned),
            loop_count: None,
        })
    }

    pub fn hangup(self) -> Self {
        self.verb(Verb::Hangup)
    }

    pub fn reject(self) -> Self {
        self.verb(Verb::Reject { reason: None })
    }

    /// The XML document; every text and attribute value is escaped by the writer.
    pub fn to_xml(&self) -> String {
        let mut writer = Writer::new(Vec::new());
        // Writing into a Vec cannot fail.
        let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
        let _ = writer
            .create_element("Response")
            .write_inner_content(|w| write_verbs(w, &self.verbs));
        String::from_utf8(writer.into_inner()).unwrap_or_default()
    }
}

type W = Writer<Vec<u8>>;

fn num(n: Option<u32>) -> Option<String> {
    n.map(|n| n.to_string())
}

fn element<'a>(
    w: &'a mut W,
    name: &'a str,
    attrs: &[(&'a str, Option<String>)],
) -> quick_xml::writer::ElementWriter<'a, Vec<u8>> {
    let mut el = w.create_element(name);
    for (key, value) in attrs {
        if let Some(value) = value {
            el = el.with_attribute((*key, value.as_str()));
        }
    }
    el
}

fn write_verbs(w: &mut W, verbs: &[Verb]) -> std::io::Result<()> {
    for verb in verbs {
        match verb {
            Verb::Say {
                text,
                voice,
                language,
                loop_count,
            } => {
                element(
                    w,
                    "Say",
                    &[
                        ("voice", voice.clone()),
                        ("language", language.clone()),
                        ("loop", num(*loop_count)),
                    ],
                )
                .write_text_content(BytesText::new(text))?;
            }
            Verb::Play { url, loop_count } => {
                element(w, "Play", &[("loop", num(*loop_count))])
                    .write_text_content(BytesText::new(url))?;
            }
            Verb::Pause { length } => {
                element(w, "Pause", &[("length", num(*length))]).write_empty()?;
            }
            Verb::Gather(g) => {
                element(
                    w,
                    "Gather",
                    &[
                        ("input", g.input.clone()),
                        ("numDigits", num(g.num_digits)),
                        ("timeout", num(g.timeout)),
                        ("action", g.action.clone()),
                        ("method", g.method.clone()),
                        ("finishOnKey", g.finish_on_key.clone()),
                    ],
                )
                .write_inner_content(|w| write_verbs(w, &g.nested))?;
            }
            Verb::Redirect { url, method } => {
                element(w, "Redirect", &[("method", method.clone())])
                    .write_text_content(BytesText::new(url))?;
            }
            Verb::Hangup => {
                w.create_element("Hangup").write_empty()?;
            }
            Verb::Dial {
                number,
                caller_id,
                timeout,
                action,
                time_limit,
            } => {
                element(
                    w,
                    "Dial",
                    &[
                        ("callerId", caller_id.clone()),
                        ("timeout", num(*timeout)),
                        ("action", action.clone()),
                        ("timeLimit", num(*time_limit)),
                    ],
                )
                .write_text_content(BytesText::new(number))?;
            }
            Verb::Record {
                action,
                max_length,
                finish_on_key,
            } => {
                element(
                    w,
                    "Record",
                    &[
                        ("action", action.clone()),
                        ("maxLength", num(*max_length)),
                        ("finishOnKey", finish_on_key.clone()),
                    ],
                )
                .write_empty()?;
            }
            Verb::Reject { reason } => {
                element(w, "Reject", &[("reason", reason.clone())]).write_empty()?;
            }
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
#[error("invalid TwiML: {0}")]
pub struct TwimlError(String);

/// A parsed XML element: just enough structure to read TwiML.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, name: &str) -> Option<String> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    fn attr_num(&self, name: &str) -> Option<u32> {
        self.attr(name).and_then(|v| v.trim().parse().ok())
    }
}

/// Parses a `<Response>` document. Unknown verbs are skipped, as Twilio reports and moves on.
pub fn parse(xml: &str) -> Result<Vec<Verb>, TwimlError> {
    let root = parse_tree(xml)?;
    if root.name != "Response" {
        return Err(TwimlError(format!(
            "root element is <{}>, expected <Response>",
            root.name
        )));
    }
    Ok(root.children.iter().filter_map(to_verb).collect())
}

fn to_verb(node: &Node) -> Option<Verb> {
    let text = node.text.trim().to_owned();
    Some(match node.name.as_str() {
        "Say" => Verb::Say {
            text,
            voice: node.attr("voice"),
            language: node.attr("language"),
            loop_count: node.attr_num("loop"),
        },
        "Play" => Verb::Play {
            url: text,
            loop_count: node.attr_num("loop"),
        },
        "Pause" => Verb::Pause {
            length: node.attr_num("length"),
        },
        "Gather" => Verb::Gather(Gather {
            input: node.attr("input"),
            num_digits: node.attr_num("numDigits"),
            timeout: node.attr_num("timeout"),
            action: node.attr("action"),
            method: node.attr("method"),
            finish_on_key: node.attr("finishOnKey"),
            nested: node.children.iter().filter_map(to_verb).collect(),
        }),
        "Redirect" => Verb::Redirect {
            url: text,
            method: node.attr("method"),
        },
        "Hangup" => Verb::Hangup,
        "Dial" => Verb::Dial {
            // <Dial><Number>..</Number></Dial> and <Dial>..</Dial> are both valid.
            number: node
                .children
                .iter()
                .find(|c| c.name == "Number")
                .map_or(text, |n| n.text.trim().to_owned()),
            caller_id: node.attr("callerId"),
            timeout: node.attr_num("timeout"),
            action: node.attr("action"),
            time_limit: node.attr_num("timeLimit"),
        },
        "Record" => Verb::Record {
            action: node.attr("action"),
            max_length: node.attr_num("maxLength"),
            finish_on_key: node.attr("finishOnKey"),
        },
        "Reject" => Verb::Reject {
            reason: node.attr("reason"),
        },
        _ => return None,
    })
}

fn parse_tree(xml: &str) -> Result<Node, TwimlError> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Node> = Vec::new();
    let err = |e: &dyn std::fmt::Display| TwimlError(e.to_string());
    loop {
        match reader.read_event().map_err(|e| err(&e))? {
            Event::Start(start) => stack.push(open(&start)?),
            Event::Empty(start) => {
                let node = open(&start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Event::Text(text) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&text.unescape().map_err(|e| err(&e))?);
                }
            }
            Event::CData(data) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::End(_) => {
                let node = stack
                    .pop()
                    .ok_or_else(|| TwimlError("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Event::Eof => return Err(TwimlError("document ended before </Response>".into())),
            _ => {}
        }
    }
}

fn open(start: &quick_xml::events::BytesStart<'_>) -> Result<Node, TwimlError> {
    let mut node = Node {
        name: String::from_utf8_lossy(start.name().as_ref()).into_owned(),
        ..Node::default()
    };
    for attr in start.attributes() {
        let attr = attr.map_err(|e| TwimlError(e.to_string()))?;
        let value = attr
            .unescape_value()
            .map_err(|e| TwimlError(e.to_string()))?;
        node.attrs.push((
            String::from_utf8_lossy(attr.key.as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(node)
}

#[cfg(test)]
mod tests;
