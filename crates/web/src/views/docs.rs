//! Text replicas side by side (collaborative editing, replicated documents), in monospace.
//! The first replica is the reference: every line of another replica that differs from
//! the same line of the first is wrapped in `<mark>`, and each replica says how many lines
//! differ, so divergence and convergence after a heal are visible and announced. A
//! line-by-line comparison is deliberate: it is cheap at every frame and is exactly what
//! "have the replicas converged?" asks.

use sdlab_core::view::Docs;
use yew::prelude::*;

#[derive(Properties, PartialEq, Clone)]
pub struct DocsProps {
    pub docs: Docs,
}

/// For each line of `other`, whether it differs from the same line of `base`; plus the
/// number of `base` lines that `other` lacks.
pub fn differing_lines(base: &str, other: &str) -> (Vec<bool>, usize) {
    let b: Vec<&str> = base.lines().collect();
    let o: Vec<&str> = other.lines().collect();
    let marks = o.iter().enumerate().map(|(i, line)| b.get(i) != Some(line)).collect();
    (marks, b.len().saturating_sub(o.len()))
}

/// Per replica: lines with their marks, and a status sentence.
type Rendered = Vec<(Vec<(String, bool)>, String)>;

fn render_all(docs: &Docs) -> Rendered {
    let base = docs.replicas.first().map(|r| r.text.as_str()).unwrap_or("");
    let base_name = docs.replicas.first().map(|r| r.name.as_str()).unwrap_or("");
    docs.replicas
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let (marks, missing) = differing_lines(base, &r.text);
            let lines = r.text.lines().zip(marks.iter()).map(|(l, m)| (l.to_string(), k > 0 && *m)).collect();
            let differ = marks.iter().filter(|m| **m).count() + missing;
            let status = if k == 0 {
                "reference".to_string()
            } else if differ == 0 {
                format!("same as {base_name}")
            } else if differ == 1 {
                format!("1 line differs from {base_name}")
            } else {
                format!("{differ} lines differ from {base_name}")
            };
            (lines, status)
        })
        .collect()
}

#[component]
pub fn DocsView(props: &DocsProps) -> Html {
    let rendered = use_memo(props.docs.clone(), render_all);
    let d = &props.docs;
    html! {
        <figure class="vw vw-docs" data-shape="docs">
            <figcaption class="vw-title">{ d.title.clone() }</figcaption>
            <div class="vw-replicas">
                { for d.replicas.iter().zip(rendered.iter()).map(|(r, (lines, status))| html! {
                    <section class="vw-replica" aria-label={format!("{}: {status}", r.name)}>
                        <h4 class="vw-lane-name">{ r.name.clone() }<span class="vw-latest" data-testid="doc-status">{ status.clone() }</span></h4>
                        // Long documents scroll; a focusable region lets keyboard users scroll too.
                        <pre class="vw-doc" tabindex="0" aria-label={format!("{} text", r.name)}>
                            { for lines.iter().map(|(l, differs)| if *differs {
                                html! { <><mark class="vw-diff">{ l.clone() }</mark>{ "\n" }</> }
                            } else {
                                html! { <>{ l.clone() }{ "\n" }</> }
                            }) }
                        </pre>
                    </section>
                }) }
            </div>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_changed_extra_and_missing_lines() {
        assert_eq!(differing_lines("a\nb\nc", "a\nb\nc"), (vec![false, false, false], 0));
        assert_eq!(differing_lines("a\nb\nc", "a\nX\nc\nd"), (vec![false, true, false, true], 0));
        assert_eq!(differing_lines("a\nb\nc", "a"), (vec![false], 2));
        assert_eq!(differing_lines("", ""), (vec![], 0));
    }

    #[test]
    fn status_names_the_reference() {
        let docs = Docs {
            title: "t".into(),
            replicas: vec![
                sdlab_core::view::DocReplica { name: "A".into(), text: "x\ny".into() },
                sdlab_core::view::DocReplica { name: "B".into(), text: "x\ny\n".into() },
                sdlab_core::view::DocReplica { name: "C".into(), text: "x".into() },
            ],
        };
        let r = render_all(&docs);
        assert_eq!(r[0].1, "reference");
        assert_eq!(r[1].1, "same as A");
        assert_eq!(r[2].1, "1 line differs from A");
        assert!(r[1].0.iter().all(|(_, m)| !m));
    }
}
