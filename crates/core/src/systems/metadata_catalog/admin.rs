//! The admin: grants and revokes roles (read access to one domain's datasets), one change
//! at a time, resending it until the catalog acknowledges it. Its own record — when it
//! first sent a grant, when a revocation was acknowledged — is what the access check judges
//! by: from the acknowledgement on, a revoked user must see nothing of that domain.

use super::msg::{Msg, Obs};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::{SimDuration, SimTime};
use crate::sim::NodeId;
use std::collections::BTreeSet;

const CHANGE: u64 = 1;
const RESEND: u64 = 2;
const RESEND_MS: u64 = 200;

#[derive(Clone, Debug)]
pub struct Admin {
    pub catalog: NodeId,
    pub users: u32,
    pub domains: u8,
    pub change_ms: u64,
    /// Durable: the grants as the admin knows them (acknowledged).
    pub grants: BTreeSet<(u32, u8)>,
    seq: u64,
    /// Durable: the change in flight (seq, user, domain, grant).
    pub pending: Option<(u64, u32, u8, bool)>,
    pub changes: u64,
    /// Role changes are made until then.
    pub until_ms: u64,
}

impl Admin {
    pub fn new(
        catalog: NodeId,
        users: u32,
        domains: u8,
        change_ms: u64,
        grants: BTreeSet<(u32, u8)>,
        until_ms: u64,
    ) -> Admin {
        Admin { catalog, users, domains, change_ms, grants, seq: 0, pending: None, changes: 0, until_ms }
    }

    fn send(&self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Some((seq, user, domain, grant)) = self.pending {
            ctx.send(self.catalog, Msg::Acl { seq, user, domain, grant });
            ctx.set_timer(SimDuration::from_ms(RESEND_MS), (seq << 4) | RESEND);
        }
    }
}

impl Actor for Admin {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        ctx.set_timer(SimDuration::from_ms(self.change_ms), CHANGE);
        self.send(ctx);
    }

    fn on_message(&mut self, _from: NodeId, msg: Msg, ctx: &mut Ctx<'_, Msg, Obs>) {
        if let Msg::AclAck { seq } = msg {
            if let Some((s, user, domain, grant)) = self.pending {
                if s == seq {
                    if grant {
                        self.grants.insert((user, domain));
                    } else {
                        self.grants.remove(&(user, domain));
                    }
                    self.pending = None;
                    self.changes += 1;
                    ctx.observe(Obs::AclAcked { user, domain, grant });
                }
            }
        }
    }

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        match tag {
            CHANGE => {
                if ctx.now() >= SimTime::from_ms(self.until_ms) {
                    return;
                }
                ctx.set_timer(SimDuration::from_ms(self.change_ms), CHANGE);
                if self.pending.is_some() {
                    return;
                }
                let user = ctx.rng.below(u64::from(self.users)) as u32;
                let domain = ctx.rng.below(u64::from(self.domains)) as u8;
                let grant = !self.grants.contains(&(user, domain));
                self.seq += 1;
                self.pending = Some((self.seq, user, domain, grant));
                ctx.observe(Obs::AclSent { user, domain, grant });
                self.send(ctx);
            }
            _ if tag & 0xf == RESEND && self.pending.is_some_and(|p| p.0 == tag >> 4) => self.send(ctx),
            _ => {}
        }
    }

    fn describe(&self) -> String {
        format!("{} role changes, {} grants", self.changes, self.grants.len())
    }
}
