//! The parameter form, generated from the system's parameter specs: a number input with
//! its bounds and unit for numbers, a checkbox for flags, a select for choices. A change
//! produces a new scenario (so it lands in the link); out-of-range input is refused with
//! the spec's own message.

use sdlab_core::scenario::params::{ParamKind, ParamSpec, ParamValue, Params};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ParamsProps {
    pub specs: &'static [ParamSpec],
    pub values: Params,
    /// A validated change: key and new value.
    pub on_change: Callback<(&'static str, ParamValue)>,
}

#[component]
pub fn ParamsForm(p: &ParamsProps) -> Html {
    let error = use_state(|| None::<String>);
    let fields = p.specs.iter().map(|spec| {
        let spec = *spec;
        let id = format!("param-{}", spec.key);
        let unit = if spec.unit.is_empty() { String::new() } else { format!(" ({})", spec.unit) };
        let emit = {
            let cb = p.on_change.clone();
            let error = error.clone();
            move |text: String| match spec.parse(&text) {
                Ok(v) => {
                    error.set(None);
                    cb.emit((spec.key, v));
                }
                Err(e) => error.set(Some(e)),
            }
        };
        let input = match spec.kind {
            ParamKind::Int { min, max, .. } => {
                let onchange = Callback::from(move |e: Event| emit(e.target_unchecked_into::<HtmlInputElement>().value()));
                html! { <input id={id.clone()} type="number" min={min.to_string()} max={max.to_string()} step="1"
                               value={p.values.int(spec.key).to_string()} {onchange} data-param={spec.key} /> }
            }
            ParamKind::Float { min, max, .. } => {
                let onchange = Callback::from(move |e: Event| emit(e.target_unchecked_into::<HtmlInputElement>().value()));
                html! { <input id={id.clone()} type="number" min={min.to_string()} max={max.to_string()} step="any"
                               value={p.values.float(spec.key).to_string()} {onchange} data-param={spec.key} /> }
            }
            ParamKind::Bool { .. } => {
                let onchange = Callback::from(move |e: Event| emit(e.target_unchecked_into::<HtmlInputElement>().checked().to_string()));
                html! { <input id={id.clone()} type="checkbox" checked={p.values.flag(spec.key)} {onchange} data-param={spec.key} /> }
            }
            ParamKind::Choice { options, .. } => {
                let onchange = Callback::from(move |e: Event| emit(e.target_unchecked_into::<HtmlSelectElement>().value()));
                let current = p.values.choice(spec.key).to_string();
                html! {
                    <select id={id.clone()} {onchange} data-param={spec.key}>
                        { for options.iter().map(|o| html! { <option value={*o} selected={*o == current}>{ *o }</option> }) }
                    </select>
                }
            }
        };
        let bounds = match spec.kind {
            ParamKind::Int { min, max, .. } => format!("{min} – {max}"),
            ParamKind::Float { min, max, .. } => format!("{min} – {max}"),
            _ => String::new(),
        };
        html! {
            <div class="param">
                <label for={id.clone()}>{ spec.label }{ unit }</label>
                { input }
                <small title={spec.help}>{ spec.help }{ if bounds.is_empty() { String::new() } else { format!(" Range {bounds}.") } }</small>
            </div>
        }
    });
    html! {
        <details class="params" open=true>
            <summary>{ "Parameters" }</summary>
            if let Some(e) = &*error { <p class="param-error" role="alert" data-testid="param-error">{ e }</p> }
            <div class="param-grid">{ for fields }</div>
        </details>
    }
}
