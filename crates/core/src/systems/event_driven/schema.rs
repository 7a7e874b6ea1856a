//! Event schemas, the decoder a consumer runs, and the registry's compatibility rule.
//!
//! A schema is a list of named, typed fields, each required or optional (with a default).
//! A body is what a producer wrote: the writer schema's version and its field values.
//! A consumer decodes a body with its own *reader* schema, field by field, as Avro's
//! schema resolution does: a reader field missing from the body is an error when required
//! and its default when optional; a field whose type differs is an error; fields the
//! reader does not know are skipped.
//!
//! The registry's rule is Confluent's FULL compatibility, checked against the latest
//! registered version: a new version must let new readers read old events (backward: no
//! new required field, no changed type) and old readers read new events (forward: no
//! required field removed). Consumers here upgrade at different times — some adopt the
//! new version the moment it is deployed, some never — and events written before a deploy
//! are still in outboxes and on the bus after it, so both directions are exercised.

/// A field's type.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Ty {
    Int,
    Str,
}

/// A value as written in a body.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Str(String),
}

impl Value {
    fn ty(&self) -> Ty {
        match self {
            Value::Int(_) => Ty::Int,
            Value::Str(_) => Ty::Str,
        }
    }
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
}

const fn req(name: &'static str, ty: Ty) -> Field {
    Field { name, ty, required: true }
}

/// One version of the `order` subject.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Schema {
    pub version: u32,
    pub fields: Vec<Field>,
}

/// The first version: order id, amount in cents, SKU.
pub fn v1() -> Schema {
    Schema { version: 1, fields: vec![req("order", Ty::Int), req("amount", Ty::Int), req("sku", Ty::Str)] }
}

/// The change a team ships at deploy time (the `schema_change` parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    None,
    AddOptional,
    AddRequired,
    ChangeType,
    RemoveField,
}

impl Change {
    pub fn from_id(id: &str) -> Option<Change> {
        Some(match id {
            "none" => Change::None,
            "add-optional" => Change::AddOptional,
            "add-required" => Change::AddRequired,
            "change-type" => Change::ChangeType,
            "remove-field" => Change::RemoveField,
            _ => return None,
        })
    }

    /// Version 2 of the subject under this change (`None`: nothing is deployed).
    pub fn v2(self) -> Option<Schema> {
        let mut fields = v1().fields;
        match self {
            Change::None => return None,
            Change::AddOptional => fields.push(Field { name: "coupon", ty: Ty::Str, required: false }),
            Change::AddRequired => fields.push(req("region", Ty::Str)),
            Change::ChangeType => fields[1] = req("amount", Ty::Str),
            Change::RemoveField => {
                fields.remove(2);
            }
        }
        Some(Schema { version: 2, fields })
    }
}

/// What a producer wrote.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Body {
    pub version: u32,
    pub fields: Vec<(&'static str, Value)>,
}

/// The order facts a body carries, as the order service holds them.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct OrderData {
    pub order: u64,
    pub amount_cents: i64,
    pub sku: u32,
}

/// Writes `data` under `schema`: every field the schema names, in its type.
pub fn encode(schema: &Schema, data: &OrderData) -> Body {
    let fields = schema
        .fields
        .iter()
        .map(|f| {
            let v = match (f.name, f.ty) {
                ("order", _) => Value::Int(data.order as i64),
                ("amount", Ty::Int) => Value::Int(data.amount_cents),
                ("amount", Ty::Str) => {
                    Value::Str(format!("{}.{:02}", data.amount_cents / 100, data.amount_cents % 100))
                }
                ("sku", _) => Value::Str(format!("SKU-{}", data.sku)),
                ("region", _) => Value::Str("eu".into()),
                (_, Ty::Int) => Value::Int(0),
                (_, Ty::Str) => Value::Str(String::new()),
            };
            (f.name, v)
        })
        .collect();
    Body { version: schema.version, fields }
}

/// Why a reader could not decode a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    Missing { field: &'static str, writer: u32 },
    WrongType { field: &'static str, writer: u32 },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Missing { field, writer } => {
                write!(f, "required field {field} missing (written as v{writer})")
            }
            DecodeError::WrongType { field, writer } => write!(f, "field {field} has another type in v{writer}"),
        }
    }
}

/// Decodes `body` with `reader`: the values of the reader's fields, in its order.
pub fn decode(reader: &Schema, body: &Body) -> Result<Vec<Option<Value>>, DecodeError> {
    reader
        .fields
        .iter()
        .map(|f| match body.fields.iter().find(|(n, _)| *n == f.name) {
            Some((_, v)) if v.ty() == f.ty => Ok(Some(v.clone())),
            Some(_) => Err(DecodeError::WrongType { field: f.name, writer: body.version }),
            None if f.required => Err(DecodeError::Missing { field: f.name, writer: body.version }),
            None => Ok(None),
        })
        .collect()
}

/// A reader that needs only some fields of `schema` (a consumer's projection).
pub fn project(schema: &Schema, names: &[&str]) -> Schema {
    Schema {
        version: schema.version,
        fields: schema.fields.iter().filter(|f| names.contains(&f.name)).copied().collect(),
    }
}

/// The registry's rule: `None` if `new` may follow `old`, else why not.
pub fn incompatibility(new: &Schema, old: &Schema) -> Option<String> {
    for f in &new.fields {
        match old.fields.iter().find(|o| o.name == f.name) {
            Some(o) if o.ty != f.ty => return Some(format!("changes the type of {}", f.name)),
            None if f.required => {
                return Some(format!("adds required field {} (new readers cannot read old events)", f.name))
            }
            _ => {}
        }
    }
    for o in old.fields.iter().filter(|o| o.required) {
        if !new.fields.iter().any(|f| f.name == o.name) {
            return Some(format!("removes required field {} (old readers cannot read new events)", o.name));
        }
    }
    None
}
