//! A shard's tables and the three isolation models, as data: where a tenant's rows live
//! (a tenant column in one shared table, a schema per tenant, a database per tenant) and
//! which rows a query sees.
//!
//! Every row keeps the tenant whose session wrote it (`Row::writer`): the store's own
//! write record, which the checks compare with the reader's token. Which rows a query
//! *returns* is the part the strategies differ in:
//! - shared schema: the query path must add `tenant_id = $session` (or the database must
//!   add it: row-level security); forgetting it returns every tenant's row for the key;
//! - schema per tenant: a pooled connection's `search_path` picks the schema; a query path
//!   that sets it once per connection instead of per request reads whichever tenant used
//!   the connection last;
//! - database per tenant: the connection itself is the tenant's, so a forgotten predicate
//!   has nothing else to return (the price is a database per tenant).

use super::msg::{Row, TenantId};
use std::collections::{BTreeMap, VecDeque};

/// Rows kept per (resource, tenant): the newest ones (a bounded table).
pub const ROWS_PER_KEY: usize = 4;
/// Pooled connections per shard (schema-per-tenant's `search_path` lives on them).
pub const POOL: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    SharedSchema,
    SchemaPerTenant,
    DbPerTenant,
}

impl Isolation {
    pub const IDS: &'static [&'static str] = &["shared-schema", "schema-per-tenant", "db-per-tenant"];

    pub fn from_id(id: &str) -> Option<Isolation> {
        Some(match id {
            "shared-schema" => Isolation::SharedSchema,
            "schema-per-tenant" => Isolation::SchemaPerTenant,
            "db-per-tenant" => Isolation::DbPerTenant,
            _ => return None,
        })
    }
}

/// The tables of one shard. `(resource, namespace)` keys the rows, the namespace being the
/// tenant (its column value, its schema or its database).
#[derive(Clone, Debug)]
pub struct Store {
    pub isolation: Isolation,
    /// Bind the session's tenant below the query layer on every request (row-level
    /// security, `SET LOCAL search_path`); `false` is the query path that forgets.
    pub bind_tenant: bool,
    pub rows: BTreeMap<(u32, TenantId), VecDeque<Row>>,
    /// Each pooled connection's `search_path` (volatile: a restart opens fresh ones).
    conns: [Option<TenantId>; POOL],
    next_conn: usize,
}

impl Store {
    pub fn new(isolation: Isolation, bind_tenant: bool) -> Store {
        Store { isolation, bind_tenant, rows: BTreeMap::new(), conns: [None; POOL], next_conn: 0 }
    }

    pub fn reset_connections(&mut self) {
        self.conns = [None; POOL];
        self.next_conn = 0;
    }

    /// The namespace a statement of `tenant`'s session runs in.
    fn namespace(&mut self, tenant: TenantId) -> TenantId {
        match self.isolation {
            Isolation::SharedSchema | Isolation::DbPerTenant => tenant,
            Isolation::SchemaPerTenant => {
                let c = self.next_conn % POOL;
                self.next_conn = self.next_conn.wrapping_add(1);
                if self.bind_tenant || self.conns[c].is_none() {
                    self.conns[c] = Some(tenant);
                }
                self.conns[c].unwrap_or(tenant)
            }
        }
    }

    pub fn write(&mut self, tenant: TenantId, resource: u32, row: Row) -> TenantId {
        let ns = self.namespace(tenant);
        push_capped(self.rows.entry((resource, ns)).or_default(), row);
        ns
    }

    pub fn read(&mut self, tenant: TenantId, resource: u32) -> Vec<Row> {
        match (self.isolation, self.bind_tenant) {
            (Isolation::SharedSchema, false) => {
                // `SELECT * FROM items WHERE resource = $1`: no tenant predicate.
                self.rows
                    .range((resource, 0)..=(resource, TenantId::MAX))
                    .flat_map(|(_, r)| r.iter().copied())
                    .collect()
            }
            _ => {
                let ns = self.namespace(tenant);
                self.rows.get(&(resource, ns)).map(|r| r.iter().copied().collect()).unwrap_or_default()
            }
        }
    }

    /// Every row of a tenant's namespace, for a move.
    pub fn rows_of(&self, tenant: TenantId) -> Vec<(u32, Row)> {
        self.rows
            .iter()
            .filter(|((_, ns), _)| *ns == tenant)
            .flat_map(|((r, _), rows)| rows.iter().map(|x| (*r, *x)))
            .collect()
    }

    /// Replaces a tenant's rows with a copy.
    pub fn load(&mut self, tenant: TenantId, rows: &[(u32, Row)]) {
        self.drop_tenant(tenant);
        for &(resource, row) in rows {
            self.apply(tenant, resource, row);
        }
    }

    /// Applies one copied change; idempotent (a row already present is skipped).
    pub fn apply(&mut self, tenant: TenantId, resource: u32, row: Row) {
        let q = self.rows.entry((resource, tenant)).or_default();
        if !q.iter().any(|r| r.id == row.id) {
            push_capped(q, row);
        }
    }

    pub fn drop_tenant(&mut self, tenant: TenantId) {
        self.rows.retain(|(_, ns), _| *ns != tenant);
    }

    pub fn row_count(&self) -> usize {
        self.rows.values().map(VecDeque::len).sum()
    }
}

fn push_capped(q: &mut VecDeque<Row>, row: Row) {
    if q.len() >= ROWS_PER_KEY {
        q.pop_front();
    }
    q.push_back(row);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u64, writer: TenantId) -> Row {
        Row { id, writer }
    }

    #[test]
    fn a_forgotten_predicate_leaks_only_where_the_model_lets_it() {
        for (iso, leaks) in
            [(Isolation::SharedSchema, true), (Isolation::SchemaPerTenant, true), (Isolation::DbPerTenant, false)]
        {
            let mut naive = Store::new(iso, false);
            let mut robust = Store::new(iso, true);
            for s in [&mut naive, &mut robust] {
                s.write(1, 7, row(1, 1));
                s.write(2, 7, row(2, 2));
            }
            let foreign = |rows: Vec<Row>, me| rows.iter().any(|r| r.writer != me);
            let mut seen = false;
            for _ in 0..POOL {
                seen |= foreign(naive.read(2, 7), 2) || foreign(naive.read(1, 7), 1);
            }
            assert_eq!(seen, leaks, "{iso:?}");
            for _ in 0..POOL {
                assert!(!foreign(robust.read(2, 7), 2) && !foreign(robust.read(1, 7), 1), "{iso:?}");
            }
        }
    }
}
