//! A tree from parent links (B-tree pages, a trie, a Merkle tree, a supervision tree),
//! drawn as nested lists, which screen readers announce with their nesting level for
//! free. The links are data from a running system and may be imperfect, so the layout is
//! defensive: a missing parent makes a root, a node reachable twice (a DAG) is shown under
//! its first parent only, and a cycle is cut where it closes. Nesting deeper than
//! [`MAX_DEPTH`] is summarised.

use sdlab_core::view::{Tree, TreeNode};
use std::collections::BTreeMap;
use yew::prelude::*;

pub const MAX_DEPTH: usize = 48;

#[derive(Properties, PartialEq, Clone)]
pub struct TreeProps {
    pub tree: Tree,
}

/// Indices into the node list: every node appears exactly once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Forest {
    pub roots: Vec<usize>,
    pub children: Vec<Vec<usize>>,
}

pub fn forest(nodes: &[TreeNode]) -> Forest {
    let mut by_id: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        by_id.entry(n.id.as_str()).or_insert(i);
    }
    let mut linked: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut starts = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        match n.parent.as_deref().and_then(|p| by_id.get(p)) {
            Some(&p) if p != i => linked[p].push(i),
            _ => starts.push(i),
        }
    }
    let mut out = Forest { roots: Vec::new(), children: vec![Vec::new(); nodes.len()] };
    let mut seen = vec![false; nodes.len()];
    // Nodes on a cycle have no root above them: they become roots, in input order.
    let candidates: Vec<usize> = starts.into_iter().chain(0..nodes.len()).collect();
    for r in candidates {
        if seen[r] {
            continue;
        }
        seen[r] = true;
        out.roots.push(r);
        let mut stack = vec![r];
        while let Some(p) = stack.pop() {
            for &c in &linked[p] {
                if !seen[c] {
                    seen[c] = true;
                    out.children[p].push(c);
                    stack.push(c);
                }
            }
        }
    }
    out
}

fn branch(nodes: &[TreeNode], f: &Forest, i: usize, depth: usize) -> Html {
    let kids = &f.children[i];
    html! {
        <li data-node={nodes[i].id.clone()}>
            <span class="vw-tree-label">{ nodes[i].label.clone() }</span>
            if !kids.is_empty() {
                if depth >= MAX_DEPTH {
                    <p class="vw-hint">{ format!("{} deeper nodes not shown", kids.len()) }</p>
                } else {
                    <ul>{ for kids.iter().map(|&c| branch(nodes, f, c, depth + 1)) }</ul>
                }
            }
        </li>
    }
}

#[component]
pub fn TreeView(props: &TreeProps) -> Html {
    let shape = use_memo(props.tree.nodes.clone(), |n| forest(n));
    let t = &props.tree;
    html! {
        <figure class="vw vw-tree" data-shape="tree">
            <figcaption class="vw-title">{ t.title.clone() }</figcaption>
            if t.nodes.is_empty() { <p class="vw-hint">{ "Empty tree" }</p> }
            <ul class="vw-tree-root" aria-label={format!("{}: {} nodes", t.title, t.nodes.len())}>
                { for shape.roots.iter().map(|&r| branch(&t.nodes, &shape, r, 0)) }
            </ul>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(id: &str, parent: Option<&str>) -> TreeNode {
        TreeNode { id: id.into(), parent: parent.map(Into::into), label: id.into() }
    }

    #[test]
    fn parents_become_nesting() {
        let f = forest(&[n("root", None), n("a", Some("root")), n("b", Some("root")), n("a1", Some("a"))]);
        assert_eq!(f.roots, vec![0]);
        assert_eq!(f.children, vec![vec![1, 2], vec![3], vec![], vec![]]);
    }

    #[test]
    fn orphans_cycles_and_duplicates_each_show_once() {
        let nodes = [
            n("x", Some("missing")),
            n("c1", Some("c2")),
            n("c2", Some("c1")),
            n("self", Some("self")),
            n("x", Some("c1")), // same id again: drawn, as its own entry
        ];
        let f = forest(&nodes);
        let mut all: Vec<usize> = f.roots.clone();
        all.extend(f.children.iter().flatten());
        all.sort_unstable();
        assert_eq!(all, vec![0, 1, 2, 3, 4]);
        assert_eq!(f.roots, vec![0, 3, 1]);
    }
}
