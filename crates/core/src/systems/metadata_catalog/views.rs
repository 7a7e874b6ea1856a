//! The views: the lineage graph (datasets under the upstream they are derived from; a
//! dataset with several inputs hangs under its last one and names the others — the tree
//! shape draws a DAG that way), the tables (current version, history length, schema,
//! partitions, tags), the grants as the catalog and as the search index know them (the
//! index's lag is the difference), and the catalog's commit log (conflicts, overwritten
//! pointers, rejected schemas).

use super::catalog::{Catalog, DOMAINS};
use super::index::Index;
use super::node::Node;
use crate::sim::world::World;
use crate::view::{Log, LogLane, Table, Tree, TreeNode, View};

pub fn views(world: &World<Node>) -> Vec<View> {
    let (mut catalog, mut index) = (None, None);
    for n in world.nodes() {
        match n {
            Node::Catalog(c) => catalog = Some(&**c),
            Node::Index(i) => index = Some(&**i),
            _ => {}
        }
    }
    let Some(c) = catalog else { return Vec::new() };
    let mut out = vec![View::Tree(lineage(c)), View::Table(tables(c))];
    if let Some(i) = index {
        out.push(View::Table(grants(c, i)));
    }
    out.push(View::Log(commits(c)));
    out
}

fn lineage(c: &Catalog) -> Tree {
    let nodes = c
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let version = t.current.map_or("empty".to_string(), |m| format!("m{m}"));
            let mut label = format!("{} @ {version}, schema v{}", t.name, t.latest_schema().version);
            if t.upstream.len() > 1 {
                let names: Vec<&str> = t.upstream.iter().map(|&u| c.tables[u as usize].name.as_str()).collect();
                label.push_str(&format!(" (from {})", names.join(" + ")));
            }
            TreeNode {
                id: t.name.clone(),
                parent: t.upstream.last().map(|&u| c.tables[u as usize].name.clone()),
                label: format!("ds{i} {label}"),
            }
        })
        .collect();
    Tree { title: "Lineage: each dataset under the datasets it is derived from".into(), nodes }
}

fn tables(c: &Catalog) -> Table {
    let rows = c
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let chain = t.chain().len();
            let s = t.latest_schema();
            let cols: Vec<String> = s.fields.iter().map(|f| f.describe()).collect();
            vec![
                format!("ds{i} {}", t.name),
                DOMAINS[t.domain as usize].to_string(),
                t.current.map_or("—".into(), |m| format!("m{m}")),
                format!("{chain} of {}", t.metas.len()),
                format!("v{}: {}", s.version, cols.join(", ")),
                t.partitions().len().to_string(),
                t.tags.join(", "),
            ]
        })
        .collect();
    let columns = ["dataset", "domain", "pointer", "snapshots in history / written", "schema", "partitions", "tags"]
        .map(String::from)
        .to_vec();
    Table { title: "Tables (the history is the chain of parents from the pointer)".into(), columns, rows }
}

fn grants(c: &Catalog, i: &Index) -> Table {
    let users: u32 = c.grants.iter().chain(i.grants.iter()).map(|g| g.0 + 1).max().unwrap_or(0);
    let rows = (0..users)
        .map(|u| {
            let mut row = vec![format!("user {u}")];
            for d in 0..DOMAINS.len() as u8 {
                let (at_catalog, at_index) = (c.grants.contains(&(u, d)), i.grants.contains(&(u, d)));
                row.push(match (at_catalog, at_index) {
                    (true, true) => "✓".into(),
                    (false, false) => "".into(),
                    (true, false) => "✓ (index: not yet)".into(),
                    (false, true) => "revoked (index: still ✓)".into(),
                });
            }
            row
        })
        .collect();
    let mut columns = vec!["user".to_string()];
    columns.extend(DOMAINS.iter().map(|d| d.to_string()));
    Table {
        title: format!("Roles: catalog vs. search index (index at change {} of {})", i.offset, c.log.len()),
        columns,
        rows,
    }
}

fn commits(c: &Catalog) -> Log {
    let entries: Vec<String> = c.recent.iter().map(|(at, t)| format!("{at:.0} ms {t}")).collect();
    let committed = entries.len();
    Log {
        title: "Catalog commit log (latest)".into(),
        lanes: vec![LogLane { name: "catalog".into(), entries, committed }],
    }
}
