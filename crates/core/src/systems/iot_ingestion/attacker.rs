//! The attacker: someone on the internet who has learned device ids (they are printed on
//! the meters) but holds no key. It publishes readings claiming to be random real
//! devices, with a plausible value, a sequence number far ahead of anything the device
//! has sent (to claim the newest slot in the device's series), and a tag it can only
//! guess. A gateway that checks MACs rejects every one; a gateway that trusts the claimed
//! id lets them into the store — and the far-ahead number also slides the device's
//! replay window past its real readings, so the writer then drops those as "too old".

use super::msg::{Msg, Obs, Reading};
use crate::sim::node::{Actor, Ctx};
use crate::sim::time::SimDuration;
use crate::sim::NodeId;

const TAG_FORGE: u64 = 1;
/// Forged sequence numbers start here, far above any a real device reaches in a run.
pub const FORGED_SEQ_BASE: u32 = 1 << 30;

#[derive(Clone, Debug)]
pub struct Attacker {
    pub gateways: Vec<NodeId>,
    pub devices: u32,
    pub per_s: u64,
    pub until_ms: u64,
    pub sent: u64,
}

impl Attacker {
    fn schedule(&self, ctx: &mut Ctx<'_, Msg, Obs>) {
        if self.per_s == 0 || ctx.now().0 / 1_000 >= self.until_ms {
            return;
        }
        let gap_ms = ctx.rng.exponential(1_000.0 / self.per_s as f64);
        ctx.set_timer(SimDuration::from_ms_f64(gap_ms).max(SimDuration(1)), TAG_FORGE);
    }
}

impl Actor for Attacker {
    type Msg = Msg;
    type Obs = Obs;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Msg, Obs>) {
        self.schedule(ctx);
    }

    fn on_message(&mut self, _from: NodeId, _msg: Msg, _ctx: &mut Ctx<'_, Msg, Obs>) {}

    fn on_timer(&mut self, tag: u64, ctx: &mut Ctx<'_, Msg, Obs>) {
        if tag != TAG_FORGE {
            return;
        }
        let device = ctx.rng.below(u64::from(self.devices.max(1))) as u32;
        let seq = FORGED_SEQ_BASE + self.sent as u32;
        let value = 150 + ctx.rng.below(100) as i32;
        let tag = ctx.rng.next_u64();
        let gw = self.gateways[ctx.rng.below(self.gateways.len() as u64) as usize];
        ctx.send(gw, Msg::Publish(Reading { device, seq, value, tag }));
        ctx.observe(Obs::Forged { device, seq });
        self.sent += 1;
        self.schedule(ctx);
    }

    fn describe(&self) -> String {
        format!("{} forged readings sent", self.sent)
    }
}
