//! A failing window as lines a reader can follow.

use super::history::{Model, Op};
use super::window::Window;

/// One op of a window, ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowOp {
    /// Its index in the history.
    pub index: usize,
    pub client: u64,
    pub call: u64,
    pub ret: Option<u64>,
    /// The call and answer in the model's words (`read → 3`, `cas 1→2 failed`).
    pub text: String,
    /// Kept exact in the window (`false`: relaxed, its answer ignored).
    pub exact: bool,
}

/// The window's ops in call order.
pub fn window_ops<M: Model>(model: &M, history: &[Op<M::Input, M::Output>], window: &Window) -> Vec<WindowOp> {
    let exact = window.exact.iter().map(|&i| (i, true));
    let relaxed = window.relaxed.iter().map(|&i| (i, false));
    let mut ops: Vec<WindowOp> = exact
        .chain(relaxed)
        .map(|(index, exact)| {
            let op = &history[index];
            WindowOp {
                index,
                client: op.client,
                call: op.call_us,
                ret: op.return_us,
                text: model.describe(&op.input, op.output.as_ref()),
                exact,
            }
        })
        .collect();
    ops.sort_by_key(|o| (o.call, o.index));
    ops
}
