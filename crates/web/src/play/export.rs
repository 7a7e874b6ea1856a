//! Export and import: the scenario as JSON (the same spec a link carries, readable and
//! editable), and the topology as SVG or PNG. An exported SVG inlines each element's
//! computed colours, because the page's stylesheet does not travel with the file.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, Element, HtmlAnchorElement, HtmlCanvasElement, HtmlImageElement, Url};

/// Offers `body` to the user as a download named `name`.
pub fn download(name: &str, mime: &str, body: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&JsValue::from_str(body));
    let opts = BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(&parts, &opts).map_err(|e| format!("{e:?}"))?;
    download_blob(name, &blob)
}

fn download_blob(name: &str, blob: &Blob) -> Result<(), String> {
    let url = Url::create_object_url_with_blob(blob).map_err(|e| format!("{e:?}"))?;
    let doc = gloo::utils::document();
    let a: HtmlAnchorElement = doc.create_element("a").map_err(|e| format!("{e:?}"))?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = Url::revoke_object_url(&url);
    Ok(())
}

/// The topology SVG as a standalone document with its colours written in.
pub fn topology_svg() -> Result<String, String> {
    let doc = gloo::utils::document();
    let svg = doc.query_selector("[data-testid=topology] svg").ok().flatten().ok_or("no topology on this page")?;
    let copy: Element = svg.clone_node_with_deep(true).map_err(|e| format!("{e:?}"))?.unchecked_into();
    inline_styles(&svg, &copy);
    copy.set_attribute("xmlns", "http://www.w3.org/2000/svg").ok();
    copy.set_attribute("width", "1000").ok();
    copy.set_attribute("height", "600").ok();
    let xml = web_sys::XmlSerializer::new().map_err(|e| format!("{e:?}"))?;
    xml.serialize_to_string(&copy).map_err(|e| format!("{e:?}"))
}

/// Copies the computed paint of every element in `live` onto the matching one in `copy`.
fn inline_styles(live: &Element, copy: &Element) {
    let window = gloo::utils::window();
    if let Ok(Some(style)) = window.get_computed_style(live) {
        for prop in ["fill", "stroke", "stroke-width", "stroke-dasharray", "font-size", "font-family", "text-anchor"] {
            if let Ok(v) = style.get_property_value(prop) {
                if !v.is_empty() {
                    let _ = copy.set_attribute(prop, &v);
                }
            }
        }
    }
    let (a, b) = (live.children(), copy.children());
    for i in 0..a.length().min(b.length()) {
        if let (Some(x), Some(y)) = (a.item(i), b.item(i)) {
            inline_styles(&x, &y);
        }
    }
}

/// Renders the exported SVG and the message layer into a PNG and downloads it.
pub fn topology_png(name: &str) -> Result<(), String> {
    let svg = topology_svg()?;
    let parts = js_sys::Array::of1(&JsValue::from_str(&svg));
    let opts = BlobPropertyBag::new();
    opts.set_type("image/svg+xml");
    let blob = Blob::new_with_str_sequence_and_options(&parts, &opts).map_err(|e| format!("{e:?}"))?;
    let url = Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
    let img = HtmlImageElement::new().map_err(|e| format!("{e:?}"))?;
    let name = name.to_string();
    let img2 = img.clone();
    let url2 = url.clone();
    let onload = Closure::once(move || {
        let _ = Url::revoke_object_url(&url2);
        let doc = gloo::utils::document();
        let Ok(canvas) = doc.create_element("canvas") else { return };
        let canvas: HtmlCanvasElement = canvas.unchecked_into();
        canvas.set_width(2000);
        canvas.set_height(1200);
        let Ok(Some(ctx)) = canvas.get_context("2d") else { return };
        let ctx: web_sys::CanvasRenderingContext2d = ctx.unchecked_into();
        let _ = ctx.draw_image_with_html_image_element_and_dw_and_dh(&img2, 0.0, 0.0, 2000.0, 1200.0);
        if let Some(flights) = doc.query_selector("[data-testid=topology] canvas").ok().flatten() {
            let flights: HtmlCanvasElement = flights.unchecked_into();
            let _ = ctx.draw_image_with_html_canvas_element_and_dw_and_dh(&flights, 0.0, 0.0, 2000.0, 1200.0);
        }
        if let Ok(data) = canvas.to_data_url_with_type("image/png") {
            if let Ok(a) = doc.create_element("a") {
                let a: HtmlAnchorElement = a.unchecked_into();
                a.set_href(&data);
                a.set_download(&name);
                a.click();
            }
        }
    });
    img.set_onload(Some(onload.as_ref().unchecked_ref()));
    onload.forget();
    img.set_src(&url);
    Ok(())
}
