//! Hash routes, so any static host serves the app: `#/` catalog, `#/s/<id>?<link>` system
//! page, `#/compare/<id>?<a>&<b>`, `#/method`.

#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    Catalog,
    System {
        id: String,
        link: Option<String>,
    },
    Compare {
        id: String,
        a: Option<String>,
        b: Option<String>,
    },
    Method,
    /// The animation benchmark (not linked from the UI).
    Bench {
        query: Option<String>,
    },
    NotFound(String),
}

impl Route {
    pub fn parse(hash: &str) -> Route {
        let h = hash.trim_start_matches('#');
        let (path, query) = match h.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (h, None),
        };
        let query = query.filter(|q| !q.is_empty()).map(str::to_string);
        let parts: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
        match parts.as_slice() {
            [] => Route::Catalog,
            ["method"] => Route::Method,
            ["bench"] => Route::Bench { query },
            ["s", id] => Route::System { id: id.to_string(), link: query },
            ["compare", id] => {
                let (a, b) = match query.as_deref().and_then(|q| q.split_once('&')) {
                    Some((a, b)) => (Some(a.to_string()), Some(b.to_string())),
                    None => (query.clone(), None),
                };
                Route::Compare { id: id.to_string(), a, b }
            }
            _ => Route::NotFound(h.to_string()),
        }
    }

    pub fn href(&self) -> String {
        match self {
            Route::Catalog => "#/".into(),
            Route::Method => "#/method".into(),
            Route::Bench { query } => format!("#/bench?{}", query.clone().unwrap_or_default()),
            Route::System { id, link: None } => format!("#/s/{id}"),
            Route::System { id, link: Some(l) } => format!("#/s/{id}?{l}"),
            Route::Compare { id, a, b } => {
                format!("#/compare/{id}?{}&{}", a.clone().unwrap_or_default(), b.clone().unwrap_or_default())
            }
            Route::NotFound(p) => format!("#{p}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_route() {
        assert_eq!(Route::parse(""), Route::Catalog);
        assert_eq!(Route::parse("#/"), Route::Catalog);
        assert_eq!(Route::parse("#/method"), Route::Method);
        assert_eq!(Route::parse("#/s/rate-limiter"), Route::System { id: "rate-limiter".into(), link: None });
        assert_eq!(Route::parse("#/s/x?v1.abc"), Route::System { id: "x".into(), link: Some("v1.abc".into()) });
        assert_eq!(
            Route::parse("#/compare/x?v1.a&v1.b"),
            Route::Compare { id: "x".into(), a: Some("v1.a".into()), b: Some("v1.b".into()) }
        );
        assert!(matches!(Route::parse("#/nope/x"), Route::NotFound(_)));
    }
}
