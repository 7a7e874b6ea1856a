//! The schema registry: the versions of the `order` subject, and the compatibility rule
//! (`schema::incompatibility`, FULL) every new version must pass against the latest one
//! before any producer may write it. A rejected version never reaches the bus: the
//! deploy that asked for it is rolled back. Its versions are durable.

use super::msg::{Msg, Obs};
use super::schema::{self, Schema};
use crate::sim::node::{Actor, Ctx};
use crate::sim::NodeId;

#[derive(Clone, Debug)]
pub struct Registry {
    pub versions: Vec<Schema>,
    pub rejected: Vec<(u32, String)>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry { versions: vec![schema::v1()], rejected: Vec::new() }
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl Actor for Registry {
    type Msg = Msg;
    type Obs = Obs;

    fn on_message(&mut self, from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        let Msg::Register { schema } = msg else { return };
        if let Some(known) = self.versions.iter().find(|s| s.version == schema.version) {
            let reply = if *known == schema {
                Msg::Registered { version: schema.version }
            } else {
                Msg::Rejected { version: schema.version, reason: "version already taken".into() }
            };
            ctx.send(from, reply);
            return;
        }
        if let Some((_, reason)) = self.rejected.iter().find(|r| r.0 == schema.version) {
            ctx.send(from, Msg::Rejected { version: schema.version, reason: reason.clone() });
            return;
        }
        let latest = self.versions.last().cloned().unwrap_or_else(schema::v1);
        match schema::incompatibility(&schema, &latest) {
            None => {
                ctx.note(format!("registered order v{}", schema.version));
                let version = schema.version;
                self.versions.push(schema);
                ctx.send(from, Msg::Registered { version });
            }
            Some(reason) => {
                ctx.note(format!("rejected order v{}: {reason}", schema.version));
                self.rejected.push((schema.version, reason.clone()));
                ctx.send(from, Msg::Rejected { version: schema.version, reason });
            }
        }
    }

    fn describe(&self) -> String {
        format!("order v{} · {} rejected", self.versions.len(), self.rejected.len())
    }
}
