//! Record schemas and Avro's schema resolution, in the subset a data catalog needs: flat
//! records of primitive fields, each either required or nullable (the union `["null", T]`),
//! with or without a default.
//!
//! Two questions, answered by two separate pieces of code on purpose:
//!
//! - [`decode`] reads one record written under a *writer* schema with a *reader* schema, by
//!   the resolution rules of the Avro 1.11 specification ("Schema Resolution"): fields are
//!   matched by name; a writer field the reader does not know is skipped; a reader field
//!   the writer lacks takes the reader's default, and is an error without one; a value's
//!   type must equal the reader's or be promotable to it (int → long, float, double;
//!   long → float, double; float → double; string ↔ bytes); a reader union takes the first
//!   branch that matches, and a null written into a reader field that is not a union is an
//!   error. This is what a reader actually runs, value by value.
//! - [`can_read`] is the static answer a schema registry gives before any data exists
//!   (Avro's `SchemaCompatibility`, which Confluent Schema Registry uses): every record the
//!   writer schema can produce is readable. [`compatible`] applies it in the directions
//!   Confluent names: BACKWARD (the new schema reads data written with the old), FORWARD
//!   (the old schema reads data written with the new), FULL (both), each optionally
//!   transitive (against every earlier version, not just the latest).
//!
//! The tests hold `can_read` to a brute-force twin: decode every record shape the writer
//! can produce (each nullable field null or not) and see whether any fails.

/// A primitive Avro type.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Prim {
    Int,
    Long,
    Float,
    Double,
    Str,
    Bytes,
    Bool,
}

impl Prim {
    pub fn name(self) -> &'static str {
        match self {
            Prim::Int => "int",
            Prim::Long => "long",
            Prim::Float => "float",
            Prim::Double => "double",
            Prim::Str => "string",
            Prim::Bytes => "bytes",
            Prim::Bool => "boolean",
        }
    }
}

/// Whether a value written as `w` may be read as `r` (equal, or Avro's promotions).
pub fn promotable(w: Prim, r: Prim) -> bool {
    use Prim::*;
    w == r
        || matches!(
            (w, r),
            (Int, Long)
                | (Int, Float)
                | (Int, Double)
                | (Long, Float)
                | (Long, Double)
                | (Float, Double)
                | (Str, Bytes)
                | (Bytes, Str)
        )
}

/// One field of a record schema.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub ty: Prim,
    /// The union `["null", ty]`.
    pub nullable: bool,
    /// Whether the field declares a default (null for a nullable field, a zero value
    /// otherwise).
    pub default: bool,
}

impl Field {
    pub fn required(name: &str, ty: Prim) -> Field {
        Field { name: name.into(), ty, nullable: false, default: false }
    }

    /// `["null", ty]` with default null: the field every evolution guide says to add.
    pub fn optional(name: &str, ty: Prim) -> Field {
        Field { name: name.into(), ty, nullable: true, default: true }
    }

    pub fn describe(&self) -> String {
        match (self.nullable, self.default) {
            (true, _) => format!("{}: {}? = null", self.name, self.ty.name()),
            (false, true) => format!("{}: {} = 0", self.name, self.ty.name()),
            (false, false) => format!("{}: {}", self.name, self.ty.name()),
        }
    }
}

/// A record schema; `version` is its number under its subject (1, 2, …).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Schema {
    pub version: u32,
    pub fields: Vec<Field>,
}

impl Schema {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A value as written: null, or a primitive of some type with a payload standing for its
/// bytes (the payload is carried through promotions unchanged).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Value {
    Null,
    Of(Prim, i64),
}

/// Why a reader could not decode a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The reader's field is absent from the writer schema and has no default.
    Missing { field: String },
    /// The written type cannot be promoted to the reader's.
    Type { field: String, written: Prim, reader: Prim },
    /// A null was written where the reader's field is not a union with null.
    Null { field: String },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Missing { field } => write!(f, "field {field} is not in the data and has no default"),
            DecodeError::Type { field, written, reader } => {
                write!(f, "field {field} was written as {}, the reader wants {}", written.name(), reader.name())
            }
            DecodeError::Null { field } => write!(f, "field {field} holds null, the reader's type is not nullable"),
        }
    }
}

/// Reads `record` (one value per field of `writer`, in its order) with `reader`: the values
/// of the reader's fields, in the reader's order.
pub fn decode(reader: &Schema, writer: &Schema, record: &[Value]) -> Result<Vec<Value>, DecodeError> {
    let mut out = Vec::with_capacity(reader.fields.len());
    for rf in &reader.fields {
        let written = writer.fields.iter().position(|w| w.name == rf.name);
        let v = match written {
            None if rf.default => {
                if rf.nullable {
                    Value::Null
                } else {
                    Value::Of(rf.ty, 0)
                }
            }
            None => return Err(DecodeError::Missing { field: rf.name.clone() }),
            Some(i) => match record.get(i).copied().unwrap_or(Value::Null) {
                Value::Null if rf.nullable => Value::Null,
                Value::Null => return Err(DecodeError::Null { field: rf.name.clone() }),
                Value::Of(t, x) if promotable(t, rf.ty) => Value::Of(rf.ty, x),
                Value::Of(t, _) => return Err(DecodeError::Type { field: rf.name.clone(), written: t, reader: rf.ty }),
            },
        };
        out.push(v);
    }
    Ok(out)
}

/// The static rule: every record `writer` can produce decodes with `reader`. `None` if so,
/// else the first reason it cannot.
pub fn can_read(reader: &Schema, writer: &Schema) -> Option<String> {
    for rf in &reader.fields {
        match writer.field(&rf.name) {
            None if rf.default => {}
            None => return Some(format!("reader field {} has no default and v{} lacks it", rf.name, writer.version)),
            Some(wf) => {
                if !promotable(wf.ty, rf.ty) {
                    return Some(format!(
                        "{} is {} in v{} and {} in v{}",
                        rf.name,
                        wf.ty.name(),
                        writer.version,
                        rf.ty.name(),
                        reader.version
                    ));
                }
                if wf.nullable && !rf.nullable {
                    return Some(format!(
                        "{} may be null in v{} but not in v{}",
                        rf.name, writer.version, reader.version
                    ));
                }
            }
        }
    }
    None
}

/// Confluent Schema Registry's compatibility levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compatibility {
    Backward,
    Forward,
    Full,
}

impl Compatibility {
    pub fn from_id(id: &str) -> Option<Compatibility> {
        Some(match id {
            "backward" => Compatibility::Backward,
            "forward" => Compatibility::Forward,
            "full" => Compatibility::Full,
            _ => return None,
        })
    }
}

/// Whether `new` may be registered after `existing` (oldest first) under `level`; with
/// `transitive` it is judged against every earlier version, else only the latest. `None`
/// if it may, else why not.
pub fn compatible(level: Compatibility, transitive: bool, new: &Schema, existing: &[Schema]) -> Option<String> {
    let against: &[Schema] =
        if transitive { existing } else { existing.last().map(std::slice::from_ref).unwrap_or(&[]) };
    for old in against {
        if matches!(level, Compatibility::Backward | Compatibility::Full) {
            if let Some(why) = can_read(new, old) {
                return Some(format!("not backward compatible with v{}: {why}", old.version));
            }
        }
        if matches!(level, Compatibility::Forward | Compatibility::Full) {
            if let Some(why) = can_read(old, new) {
                return Some(format!("not forward compatible with v{}: {why}", old.version));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;

    const TYPES: [Prim; 7] = [Prim::Int, Prim::Long, Prim::Float, Prim::Double, Prim::Str, Prim::Bytes, Prim::Bool];
    const NAMES: [&str; 5] = ["a", "b", "c", "d", "e"];

    fn random_schema(rng: &mut Prng, version: u32) -> Schema {
        let mut fields = Vec::new();
        for n in NAMES {
            if rng.chance(0.6) {
                let ty = TYPES[rng.below(TYPES.len() as u64) as usize];
                let nullable = rng.chance(0.3);
                let default = nullable || rng.chance(0.3);
                fields.push(Field { name: n.into(), ty, nullable, default });
            }
        }
        Schema { version, fields }
    }

    /// Every record shape `writer` can produce: each nullable field null or not.
    fn all_records(writer: &Schema) -> Vec<Vec<Value>> {
        let nullable: Vec<usize> = (0..writer.fields.len()).filter(|&i| writer.fields[i].nullable).collect();
        (0..1u32 << nullable.len())
            .map(|mask| {
                writer
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| match nullable.iter().position(|&j| j == i) {
                        Some(bit) if mask & (1 << bit) != 0 => Value::Null,
                        _ => Value::Of(f.ty, i as i64),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn static_rule_matches_decoding_every_record_shape() {
        let mut rng = Prng::new(7);
        let (mut yes, mut no) = (0, 0);
        for _ in 0..20_000 {
            let w = random_schema(&mut rng, 1);
            let r = random_schema(&mut rng, 2);
            let twin = all_records(&w).iter().all(|rec| decode(&r, &w, rec).is_ok());
            assert_eq!(can_read(&r, &w).is_none(), twin, "reader {r:?} writer {w:?}");
            if twin {
                yes += 1
            } else {
                no += 1
            }
        }
        assert!(yes > 1_000 && no > 1_000, "{yes} readable, {no} not");
    }

    #[test]
    fn the_specification_examples() {
        let v1 =
            Schema { version: 1, fields: vec![Field::required("id", Prim::Int), Field::required("name", Prim::Str)] };
        // Adding a field with a default is readable both ways.
        let mut v2 = v1.clone();
        v2.version = 2;
        v2.fields.push(Field::optional("email", Prim::Str));
        assert!(compatible(Compatibility::Full, false, &v2, std::slice::from_ref(&v1)).is_none());
        // Adding one without a default: new readers cannot read old data.
        let mut v3 = v1.clone();
        v3.fields.push(Field::required("age", Prim::Int));
        assert!(compatible(Compatibility::Backward, false, &v3, std::slice::from_ref(&v1)).is_some());
        assert!(compatible(Compatibility::Forward, false, &v3, std::slice::from_ref(&v1)).is_none());
        let rec = [Value::Of(Prim::Int, 1), Value::Of(Prim::Str, 2)];
        assert_eq!(decode(&v3, &v1, &rec), Err(DecodeError::Missing { field: "age".into() }));
        // int → long is a promotion; long → int is not.
        let mut wide = v1.clone();
        wide.fields[0].ty = Prim::Long;
        assert!(can_read(&wide, &v1).is_none());
        assert!(can_read(&v1, &wide).is_some());
        assert_eq!(decode(&wide, &v1, &rec).unwrap()[0], Value::Of(Prim::Long, 1));
        // string and bytes read each other.
        assert!(promotable(Prim::Str, Prim::Bytes) && promotable(Prim::Bytes, Prim::Str));
        // A nullable writer field read as non-null fails only on an actual null.
        let mut opt = v1.clone();
        opt.fields[1].nullable = true;
        assert!(can_read(&v1, &opt).is_some());
        assert!(decode(&v1, &opt, &rec).is_ok());
        assert!(decode(&v1, &opt, &[Value::Of(Prim::Int, 1), Value::Null]).is_err());
    }

    #[test]
    fn transitive_looks_past_the_latest() {
        let v1 = Schema { version: 1, fields: vec![Field::required("id", Prim::Int)] };
        let v2 = Schema { version: 2, fields: vec![Field::required("id", Prim::Int), Field::optional("x", Prim::Str)] };
        let v3 = Schema { version: 3, fields: vec![Field::required("id", Prim::Int)] };
        let v4 = Schema { version: 4, fields: vec![Field::required("id", Prim::Int), Field::optional("x", Prim::Int)] };
        let all = [v1, v2, v3];
        assert!(compatible(Compatibility::Full, false, &v4, &all).is_none());
        assert!(compatible(Compatibility::Full, true, &v4, &all).is_some());
    }
}
