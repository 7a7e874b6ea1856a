//! Fault injection by clicking: the selected node can be crashed, restarted, paused or
//! have its clock skewed; the selected link can be partitioned (both ways or one way),
//! clogged, or healed; and a traffic spike can be thrown at the whole system. Each action
//! becomes a timed fault in the scenario, so the link carries it.

use super::topology::Selection;
use sdlab_core::sim::fault::Fault;
use sdlab_core::view::Topology;
use yew::prelude::*;

/// What the user asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Fault(Fault),
    Spike,
}

#[derive(Properties, PartialEq)]
pub struct FaultProps {
    pub topology: Topology,
    pub selected: Option<Selection>,
    pub on_action: Callback<Action>,
    pub message: AttrValue,
}

fn button(label: &str, testid: &str, cb: &Callback<Action>, action: Action) -> Html {
    let cb = cb.clone();
    html! { <button data-testid={testid.to_string()} onclick={Callback::from(move |_| cb.emit(action.clone()))}>{ label }</button> }
}

#[component]
pub fn FaultPanel(p: &FaultProps) -> Html {
    let cb = &p.on_action;
    let body = match p.selected {
        Some(Selection::Node(id)) => match p.topology.nodes.get(id as usize) {
            Some(n) => {
                let node = n.name.clone();
                html! {
                    <>
                        <p><strong>{ &n.name }</strong>{ format!(" · {} · {}", n.role, n.status) }{ if n.skewed { " · clock skewed" } else { "" } }</p>
                        <div class="actions">
                            if n.status == "down" {
                                { button("Restart", "fault-restart", cb, Action::Fault(Fault::Restart { node: node.clone() })) }
                            } else {
                                { button("Crash", "fault-crash", cb, Action::Fault(Fault::Crash { node: node.clone() })) }
                                { button("Pause 1 s (GC)", "fault-pause", cb, Action::Fault(Fault::Pause { node: node.clone(), for_ms: 1_000 })) }
                            }
                            { button("Clock −500 ms", "fault-skew-back", cb, Action::Fault(Fault::Skew { node: node.clone(), offset_ms: -500, drift_ppm: 0 })) }
                            { button("Clock +10 % fast", "fault-skew-fast", cb, Action::Fault(Fault::Skew { node: node.clone(), offset_ms: 0, drift_ppm: 100_000 })) }
                            { button("Isolate", "fault-isolate", cb, Action::Fault(Fault::Partition { a: vec![node.clone()], b: others(&p.topology, id), one_way: false })) }
                        </div>
                    </>
                }
            }
            None => html! {},
        },
        Some(Selection::Link(a, b)) => {
            let (Some(na), Some(nb)) = (p.topology.nodes.get(a as usize), p.topology.nodes.get(b as usize)) else {
                return html! {};
            };
            let (x, y) = (na.name.clone(), nb.name.clone());
            html! {
                <>
                    <p><strong>{ format!("{x} – {y}") }</strong></p>
                    <div class="actions">
                        { button("Partition", "fault-partition", cb, Action::Fault(Fault::Partition { a: vec![x.clone()], b: vec![y.clone()], one_way: false })) }
                        { button(&format!("Cut {x} → {y} only"), "fault-partition-one-way", cb, Action::Fault(Fault::Partition { a: vec![x.clone()], b: vec![y.clone()], one_way: true })) }
                        { button("Clog +100 ms", "fault-clog", cb, Action::Fault(Fault::Clog { from: x.clone(), to: y.clone(), extra_ms: 100 })) }
                        { button("Unclog", "fault-unclog", cb, Action::Fault(Fault::Unclog { from: x.clone(), to: y.clone() })) }
                    </div>
                </>
            }
        }
        None => {
            html! { <p class="hint">{ "Select a node or a link in the topology (click, or Tab then Enter) to break it." }</p> }
        }
    };
    html! {
        <section class="fault-panel" aria-labelledby="faults-h">
            <h2 id="faults-h">{ "Inject a fault" }</h2>
            { body }
            <div class="actions global">
                { button("Heal all partitions", "fault-heal", cb, Action::Fault(Fault::Heal)) }
                { button("Traffic spike ×5", "traffic-spike", cb, Action::Spike) }
            </div>
            if !p.message.is_empty() { <p class="fault-msg" role="status">{ p.message.clone() }</p> }
        </section>
    }
}

fn others(t: &Topology, id: u32) -> Vec<String> {
    t.nodes.iter().filter(|n| n.id != id).map(|n| n.name.clone()).collect()
}
