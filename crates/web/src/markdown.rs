//! The explainer renderer: a system's Markdown explainer turned into Yew nodes.
//!
//! We walk pulldown-cmark's event stream and build VNodes ourselves instead of producing an
//! HTML string and injecting it. That keeps the page free of `innerHTML`: raw HTML written in
//! the Markdown is shown as text, links survive only when they point inside the app (`#/...`)
//! or to an `https://` page, and nothing the Markdown says can add a script or a style.
//!
//! Two things are particular to sdlab:
//! - a line starting `Show me:` followed by a scenario as JSON (and, after `=>`, the
//!   outcome it claims — see `sdlab_core::scenario::show_me`) becomes a "▶ Show me" link
//!   that opens that scenario, with the claim beside it (the JSON is parsed and validated
//!   here, so a broken line shows up as a visible warning rather than as a dead link);
//! - headings get stable ids (`sec-<slug>`), and [`sections`] lists the `##` headings with
//!   the same ids, so a page can build a table of contents that matches the rendered text.
//!
//! Markdown `#` headings render as `<h2>`: the page around the explainer owns the `<h1>`.

use pulldown_cmark::{Alignment, CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use sdlab_core::scenario::link;
use sdlab_core::scenario::show_me::{self, Claim};
use std::collections::BTreeSet;
use std::ops::Range;
use yew::prelude::*;

/// What starts a scenario line in an explainer.
pub const SHOW_ME: &str = show_me::PREFIX;

#[derive(Properties, PartialEq, Clone)]
pub struct ExplainerProps {
    /// The explainer's Markdown source.
    pub markdown: AttrValue,
    /// The id of the system whose page shows the explainer (e.g. `rate-limiter`).
    pub system: AttrValue,
    /// Back-of-the-envelope numbers as (label, value), computed by the page from its sliders;
    /// shown as a table above the text. Empty: no table.
    #[prop_or_default]
    pub estimates: Vec<(String, String)>,
}

/// A system's explainer with its estimates table on top.
#[component]
pub fn Explainer(props: &ExplainerProps) -> Html {
    let body = use_memo((props.markdown.clone(), props.system.clone()), |(md, system)| render(md, system));
    html! {
        <article class="explainer" data-system={props.system.clone()} data-testid="explainer">
            if !props.estimates.is_empty() {
                <table class="estimates" data-testid="estimates">
                    <caption>{ "Back of the envelope" }</caption>
                    <tbody>
                        { for props.estimates.iter().map(|(label, value)| html! {
                            <tr><th scope="row">{ label }</th><td>{ value }</td></tr>
                        }) }
                    </tbody>
                </table>
            }
            { (*body).clone() }
        </article>
    }
}

/// The `##` headings of an explainer as (id, title), with the ids [`render`] gives them.
pub fn sections(markdown: &str) -> Vec<(String, String)> {
    let mut slugs = Slugger::default();
    let mut out = Vec::new();
    let mut current: Option<(HeadingLevel, String)> = None;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => current = Some((level, String::new())),
            Event::Text(t) | Event::Code(t) | Event::InlineHtml(t) => {
                if let Some((_, title)) = current.as_mut() {
                    title.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, title)) = current.take() {
                    let id = slugs.id(&title);
                    if level == HeadingLevel::H2 {
                        out.push((id, title.trim().to_string()));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Renders explainer Markdown for the page of `system`.
pub fn render(markdown: &str, system: &str) -> Html {
    let mut w = Walker { src: markdown, system, stack: vec![Frame::new(Kind::Root)], slugs: Slugger::default() };
    let mut skip: Option<(usize, usize)> = None;
    for (event, range) in Parser::new_ext(markdown, options()).into_offset_iter() {
        if let Some((first, end)) = skip {
            if range.start > first && range.start < end {
                continue;
            }
        }
        if let Event::Text(_) = &event {
            if let Some(end) = w.show_me_line(&range) {
                skip = Some((range.start, end));
                continue;
            }
        }
        w.event(event);
    }
    while w.stack.len() > 1 {
        w.close();
    }
    let root = w.stack.pop().map(|f| f.children).unwrap_or_default();
    html! { <>{ for root }</> }
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// Makes heading ids: a lowercase slug with a `sec-` prefix (so no heading can take an id
/// the app uses, such as `app` or `main`), numbered when a title repeats.
#[derive(Default)]
struct Slugger {
    used: BTreeSet<String>,
}

impl Slugger {
    fn id(&mut self, title: &str) -> String {
        let base = format!("sec-{}", slug(title));
        let mut id = base.clone();
        let mut n = 2;
        while self.used.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.used.insert(id.clone());
        id
    }
}

/// `"Deep dive: making ids"` → `"deep-dive-making-ids"`.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "section".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Whether a link target may stay a link: in-app routes and https pages only.
pub fn safe_href(dest: &str) -> bool {
    dest.starts_with("#/") || dest.starts_with("https://")
}

/// A `Show me:` line checked against the catalog.
#[derive(Clone, Debug, PartialEq)]
pub enum ShowMe {
    /// The scenario is valid: `href` opens it; `summary` says what it runs.
    Ready { system: String, href: String, summary: String },
    /// The line cannot be opened, and why.
    Broken { reason: String },
}

/// Parses and validates what follows `Show me:` — the scenario JSON and its claim.
pub fn show_me(line: &str) -> ShowMe {
    let (json, claim) = show_me::split(line);
    let claim = match claim.map(Claim::parse).transpose() {
        Ok(c) => c,
        Err(reason) => return ShowMe::Broken { reason },
    };
    let spec = match link::parse_json(json) {
        Ok(spec) => spec,
        Err(e) => return ShowMe::Broken { reason: e.to_string() },
    };
    match sdlab_core::run::open(&spec) {
        Ok(s) => ShowMe::Ready {
            system: s.def.id.to_string(),
            href: format!("#/s/{}?{}", s.def.id, link::encode(&spec)),
            summary: format!(
                "{}, seed {}{}{}",
                s.strategy.title,
                s.seed,
                match s.faults.len() {
                    0 => String::new(),
                    1 => ", 1 fault".to_string(),
                    n => format!(", {n} faults"),
                },
                claim.map(|c| format!(" — {}", c.describe())).unwrap_or_default()
            ),
        },
        Err(e) => ShowMe::Broken { reason: e.to_string() },
    }
}

/// Every `Show me:` line of a Markdown text, as its JSON (code blocks included: callers
/// that check explainers want to see every line a reader could see).
pub fn show_me_lines(markdown: &str) -> Vec<&str> {
    show_me::lines(markdown)
}

fn show_me_html(json: &str, page_system: &str) -> Html {
    match show_me(json) {
        ShowMe::Ready { system, href, summary } => {
            let elsewhere = (system != page_system).then(|| format!(" (on the {system} page)"));
            html! {
                <p class="show-me-line">
                    <a class="show-me" {href} data-testid="show-me" aria-label={format!("Show me: run {summary}{}", elsewhere.clone().unwrap_or_default())}>
                        { "▶ Show me" }{ elsewhere.unwrap_or_default() }
                    </a>
                    <span class="show-me-summary">{ summary }</span>
                </p>
            }
        }
        ShowMe::Broken { reason } => html! {
            <p class="show-me-broken" role="note" data-testid="show-me-broken">
                <strong>{ "This “Show me” scenario cannot be opened: " }</strong>{ reason }
            </p>
        },
    }
}

/// What an open element will become when its end event arrives.
enum Kind {
    Root,
    Paragraph,
    Heading(HeadingLevel),
    BlockQuote,
    CodeBlock(Option<String>),
    HtmlBlock,
    List(Option<u64>),
    Item,
    Table(Vec<Alignment>),
    TableHead,
    TableRow,
    TableCell,
    Emphasis,
    Strong,
    Strike,
    Link(Option<String>, String),
    Image,
    Span,
}

struct Frame {
    kind: Kind,
    children: Vec<Html>,
    /// The plain text inside, for heading ids, code blocks and image alt text.
    text: String,
    /// Table cells seen in the current row, to find each cell's alignment.
    cells: usize,
}

impl Frame {
    fn new(kind: Kind) -> Frame {
        Frame { kind, children: Vec::new(), text: String::new(), cells: 0 }
    }
}

struct Walker<'s> {
    src: &'s str,
    system: &'s str,
    stack: Vec<Frame>,
    slugs: Slugger,
}

impl Walker<'_> {
    fn top(&mut self) -> &mut Frame {
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    fn push_text(&mut self, text: &str) {
        let top = self.top();
        top.text.push_str(text);
        if !matches!(top.kind, Kind::CodeBlock(_) | Kind::HtmlBlock | Kind::Image) {
            top.children.push(html! { { text.to_string() } });
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.open(tag),
            Event::End(_) => self.close(),
            Event::Text(t) => self.push_text(&t),
            Event::Code(t) => {
                self.top().text.push_str(&t);
                self.top().children.push(html! { <code>{ t.to_string() }</code> });
            }
            // Raw HTML is text, never markup.
            Event::Html(t) | Event::InlineHtml(t) => self.push_text(&t),
            Event::SoftBreak => self.push_text("\n"),
            Event::HardBreak => self.top().children.push(html! { <br /> }),
            Event::Rule => self.top().children.push(html! { <hr /> }),
            Event::TaskListMarker(done) => self.push_text(if done { "☑ " } else { "☐ " }),
            _ => {}
        }
    }

    fn open(&mut self, tag: Tag<'_>) {
        let kind = match tag {
            Tag::Paragraph => Kind::Paragraph,
            Tag::Heading { level, .. } => Kind::Heading(level),
            Tag::BlockQuote(_) => Kind::BlockQuote,
            Tag::CodeBlock(CodeBlockKind::Fenced(lang)) => {
                Kind::CodeBlock(lang.split_whitespace().next().map(str::to_string))
            }
            Tag::CodeBlock(CodeBlockKind::Indented) => Kind::CodeBlock(None),
            Tag::HtmlBlock => Kind::HtmlBlock,
            Tag::List(start) => Kind::List(start),
            Tag::Item => Kind::Item,
            Tag::Table(align) => Kind::Table(align),
            Tag::TableHead => Kind::TableHead,
            Tag::TableRow => Kind::TableRow,
            Tag::TableCell => Kind::TableCell,
            Tag::Emphasis => Kind::Emphasis,
            Tag::Strong => Kind::Strong,
            Tag::Strikethrough => Kind::Strike,
            Tag::Link { dest_url, title, .. } => {
                Kind::Link(safe_href(&dest_url).then(|| dest_url.to_string()), title.to_string())
            }
            Tag::Image { .. } => Kind::Image,
            _ => Kind::Span,
        };
        self.stack.push(Frame::new(kind));
    }

    /// Closes the innermost open element into its parent.
    fn close(&mut self) {
        if self.stack.len() < 2 {
            return;
        }
        let Some(frame) = self.stack.pop() else { return };
        if matches!(frame.kind, Kind::Paragraph) && frame.text.trim().is_empty() {
            // What is left of a paragraph after a `Show me:` line took its place.
            return;
        }
        let align = self.cell_alignment(&frame);
        let node = self.finish(frame.kind, frame.children, &frame.text, align);
        let parent = self.top();
        if matches!(parent.kind, Kind::TableHead | Kind::TableRow) {
            parent.cells += 1;
        }
        parent.text.push_str(&frame.text);
        parent.children.push(node);
    }

    /// The alignment class of a cell being closed, from the table two or three levels up.
    fn cell_alignment(&self, frame: &Frame) -> &'static str {
        if !matches!(frame.kind, Kind::TableCell) {
            return "";
        }
        let Some(row) = self.stack.last() else { return "" };
        let table = self.stack.iter().rev().find_map(|f| match &f.kind {
            Kind::Table(a) => Some(a),
            _ => None,
        });
        match table.and_then(|a| a.get(row.cells)) {
            Some(Alignment::Left) => "align-left",
            Some(Alignment::Center) => "align-center",
            Some(Alignment::Right) => "align-right",
            _ => "",
        }
    }

    fn in_table_head(&self) -> bool {
        self.stack.iter().any(|f| matches!(f.kind, Kind::TableHead))
    }

    fn finish(&mut self, kind: Kind, children: Vec<Html>, text: &str, align: &'static str) -> Html {
        match kind {
            Kind::Root | Kind::Span => html! { <span>{ for children }</span> },
            Kind::Paragraph => html! { <p>{ for children }</p> },
            Kind::Heading(level) => {
                let id = self.slugs.id(text);
                let tag = format!("h{}", (level as usize).max(2));
                html! { <@{tag} {id}>{ for children }</@> }
            }
            Kind::BlockQuote => html! { <blockquote>{ for children }</blockquote> },
            Kind::CodeBlock(lang) => {
                let class = lang.map(|l| format!("language-{}", slug(&l)));
                html! { <pre class="code-block" tabindex="0"><code {class}>{ text.to_string() }</code></pre> }
            }
            Kind::HtmlBlock => html! { <pre class="raw-html">{ text.to_string() }</pre> },
            Kind::List(None) => html! { <ul>{ for children }</ul> },
            Kind::List(Some(1)) => html! { <ol>{ for children }</ol> },
            Kind::List(Some(start)) => html! { <ol start={start.to_string()}>{ for children }</ol> },
            Kind::Item => html! { <li>{ for children }</li> },
            Kind::Table(_) => {
                let mut rows = children.into_iter();
                let head = rows.next();
                html! {
                    <div class="table-scroll"><table class="md-table">{ for head }<tbody>{ for rows }</tbody></table></div>
                }
            }
            Kind::TableHead => html! { <thead><tr>{ for children }</tr></thead> },
            Kind::TableRow => html! { <tr>{ for children }</tr> },
            Kind::TableCell if self.in_table_head() => {
                html! { <th scope="col" class={classes!((!align.is_empty()).then_some(align))}>{ for children }</th> }
            }
            Kind::TableCell => {
                html! { <td class={classes!((!align.is_empty()).then_some(align))}>{ for children }</td> }
            }
            Kind::Emphasis => html! { <em>{ for children }</em> },
            Kind::Strong => html! { <strong>{ for children }</strong> },
            Kind::Strike => html! { <del>{ for children }</del> },
            Kind::Link(Some(href), title) => {
                let external = href.starts_with("https://");
                let title = (!title.is_empty()).then_some(title);
                if external {
                    html! { <a {href} {title} rel="noopener noreferrer" class="external">{ for children }</a> }
                } else {
                    html! { <a {href} {title}>{ for children }</a> }
                }
            }
            Kind::Link(None, _) => html! { <span class="link-dropped">{ for children }</span> },
            Kind::Image => html! { <span class="image-alt">{ format!("[image: {text}]") }</span> },
        }
    }

    /// If the text event at `range` starts a `Show me:` line, renders the scenario link in
    /// place (splitting the paragraph around it) and returns the line's end.
    fn show_me_line(&mut self, range: &Range<usize>) -> Option<usize> {
        let src = self.src;
        let line_start = src[..range.start].rfind('\n').map_or(0, |i| i + 1);
        let rest = &src[range.start..];
        if !src[line_start..range.start].trim().is_empty() || !rest.starts_with(SHOW_ME) {
            return None;
        }
        let end = range.start + rest.find('\n').unwrap_or(rest.len());
        let json = src[range.start + SHOW_ME.len()..end].trim();
        let widget = show_me_html(json, self.system);
        let top = self.top();
        if matches!(top.kind, Kind::Paragraph) {
            // The text before the line stays a paragraph of its own; what follows starts anew.
            let before = std::mem::take(&mut top.children);
            let had_text = !std::mem::take(&mut top.text).trim().is_empty();
            let len = self.stack.len();
            let parent = &mut self.stack[len - 2];
            if had_text {
                parent.children.push(html! { <p>{ for before }</p> });
            }
            parent.children.push(widget);
        } else {
            top.children.push(widget);
        }
        Some(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdlab_core::catalog::CATALOG;

    /// Every `Show me:` line in every catalog system's explainer parses, validates against
    /// the catalog, and opens the system it is written for.
    #[test]
    fn every_show_me_line_in_the_catalog_is_a_valid_scenario() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src/systems");
        for def in CATALOG {
            let path = dir.join(def.id.replace('-', "_")).join("explainer.md");
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{} has no explainer at {}: {e}", def.id, path.display()));
            let lines = show_me_lines(&text);
            assert!(!lines.is_empty(), "{}: the explainer has no Show me line", def.id);
            for line in lines {
                let (json, _) = show_me::split(line);
                let spec = link::parse_json(json).unwrap_or_else(|e| panic!("{}: {e}\n{json}", def.id));
                sdlab_core::run::open(&spec).unwrap_or_else(|e| panic!("{}: {e}\n{json}", def.id));
                match show_me(line) {
                    ShowMe::Ready { system, href, .. } => {
                        assert_eq!(system, def.id);
                        assert!(href.starts_with(&format!("#/s/{}?v2.", def.id)), "{href}");
                    }
                    ShowMe::Broken { reason } => panic!("{}: {reason}", def.id),
                }
            }
        }
    }

    #[test]
    fn show_me_links_round_trip_through_the_codec() {
        let json = r#"{"version":1,"system":"rate-limiter","strategy":"token-bucket","seed":7}"#;
        let ShowMe::Ready { href, summary, .. } = show_me(&format!("{json} => all hold")) else {
            panic!("valid scenario")
        };
        assert!(summary.ends_with("— every check holds"), "{summary}");
        let link_text = href.split_once('?').map(|(_, l)| l).unwrap_or_default();
        let back = link::decode(link_text).expect("decodes");
        assert_eq!(back, link::parse_json(json).expect("parses"));
        assert!(summary.contains("seed 7"), "{summary}");
    }

    #[test]
    fn broken_show_me_lines_say_why() {
        let ShowMe::Broken { reason } = show_me("{not json") else { panic!("must fail") };
        assert!(reason.contains("not valid"), "{reason}");
        let ShowMe::Broken { reason } = show_me(r#"{"version":1,"system":"rate-limiter","strategy":"nope"}"#) else {
            panic!("must fail")
        };
        assert!(reason.contains("nope"), "{reason}");
        let ShowMe::Broken { reason } = show_me(r#"{"version":1,"system":"rate-limiter"} => looks fine"#) else {
            panic!("must fail")
        };
        assert!(reason.contains("looks fine"), "{reason}");
    }

    #[test]
    fn show_me_lines_are_found_at_line_starts_only() {
        let md = "Intro\nShow me: {\"a\":1}\n  Show me:{}\n\nnot Show me: here\n";
        assert_eq!(show_me_lines(md), vec!["{\"a\":1}", "{}"]);
    }

    #[test]
    fn sections_list_level_two_headings_with_unique_ids() {
        let md = "# Title\n\n## Requirements\n\ntext\n\n### Detail\n\n## Deep dive: `ids`\n\n## Requirements\n";
        assert_eq!(
            sections(md),
            vec![
                ("sec-requirements".to_string(), "Requirements".to_string()),
                ("sec-deep-dive-ids".to_string(), "Deep dive: ids".to_string()),
                ("sec-requirements-2".to_string(), "Requirements".to_string()),
            ]
        );
    }

    #[test]
    fn slugs_and_hrefs() {
        assert_eq!(slug("Trade-offs (back of the envelope)"), "trade-offs-back-of-the-envelope");
        assert_eq!(slug("  ?!  "), "section");
        assert_eq!(slug("Größe"), "größe");
        assert!(safe_href("#/s/rate-limiter"));
        assert!(safe_href("https://example.org/x"));
        for bad in ["javascript:alert(1)", "http://example.org", "#top", "//evil", "data:text/html,x", "/etc"] {
            assert!(!safe_href(bad), "{bad}");
        }
    }

    #[test]
    fn every_catalog_explainer_has_the_interview_sections() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src/systems");
        for def in CATALOG {
            let text =
                std::fs::read_to_string(dir.join(def.id.replace('-', "_")).join("explainer.md")).unwrap_or_default();
            let ids: Vec<String> = sections(&text).into_iter().map(|(id, _)| id).collect();
            for want in ["sec-requirements", "sec-scope", "sec-high-level-design", "sec-bottlenecks"] {
                assert!(ids.iter().any(|i| i == want), "{}: no {want} in {ids:?}", def.id);
            }
        }
    }
}
