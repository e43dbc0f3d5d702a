//! Ansible's list-combining filters: `product` (cartesian product, as itertools.product),
//! `zip` and `zip_longest` (with `fillvalue`), and `path_join`.

use minijinja::value::{Kwargs, Rest};
use minijinja::{Environment, Error, Value};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("map", strict_map);
    env.add_filter("product", product);
    env.add_filter("zip", zip);
    env.add_filter("zip_longest", zip_longest);
    env.add_filter("path_join", path_join);
}

fn items(v: &Value) -> Result<Vec<Value>, Error> {
    Ok(v.try_iter()?.collect())
}

fn product(first: Value, rest: Rest<Value>) -> Result<Value, Error> {
    let mut out: Vec<Vec<Value>> = items(&first)?.into_iter().map(|v| vec![v]).collect();
    for other in rest.iter() {
        let other = items(other)?;
        out = out
            .into_iter()
            .flat_map(|prefix| {
                other.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push(v.clone());
                    p
                })
            })
            .collect();
    }
    Ok(Value::from(
        out.into_iter().map(Value::from).collect::<Vec<_>>(),
    ))
}

fn zip_with(first: Value, rest: &[Value], fill: Option<Value>) -> Result<Value, Error> {
    let mut lists = vec![items(&first)?];
    for r in rest {
        lists.push(items(r)?);
    }
    let n = match fill {
        None => lists.iter().map(Vec::len).min().unwrap_or(0),
        Some(_) => lists.iter().map(Vec::len).max().unwrap_or(0),
    };
    let fill = fill.unwrap_or(Value::from(()));
    let rows: Vec<Value> = (0..n)
        .map(|i| {
            Value::from(
                lists
                    .iter()
                    .map(|l| l.get(i).cloned().unwrap_or_else(|| fill.clone()))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    Ok(Value::from(rows))
}

fn zip(first: Value, rest: Rest<Value>) -> Result<Value, Error> {
    zip_with(first, &rest, None)
}

fn zip_longest(first: Value, rest: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let fill: Option<Value> = kwargs.get("fillvalue")?;
    kwargs.assert_all_used()?;
    zip_with(first, &rest, Some(fill.unwrap_or(Value::from(()))))
}

fn path_join(parts: Value) -> Result<String, Error> {
    let mut p = std::path::PathBuf::new();
    for part in parts.try_iter()? {
        p.push(part.to_string());
    }
    Ok(p.display().to_string())
}

/// Jinja's `map`, with ansible-core's strict undefined: an item without the attribute (and no
/// `default=`) is an error naming it, not a hole in the list.
fn strict_map(
    state: &mut minijinja::State,
    value: Value,
    args: minijinja::value::Rest<minijinja::value::ValueOrKwargs>,
) -> Result<Vec<Value>, Error> {
    let attribute = args.0.iter().find_map(|a| {
        let v: &Value = a;
        (v.kind() == minijinja::value::ValueKind::Map)
            .then(|| v.get_attr("attribute").ok())
            .flatten()
            .filter(|x| !x.is_undefined())
    });
    let items: Vec<Value> = value.try_iter().map(|i| i.collect()).unwrap_or_default();
    let out = minijinja::filters::map(state, value, args)?;
    if let Some(i) = out.iter().position(Value::is_undefined) {
        let kind = match items.get(i).map(Value::kind) {
            Some(minijinja::value::ValueKind::Map) => "dict",
            Some(minijinja::value::ValueKind::Seq) => "list",
            Some(minijinja::value::ValueKind::String) => "str",
            Some(minijinja::value::ValueKind::Number) => "int",
            _ => "object",
        };
        let what = attribute.map(|a| a.to_string()).unwrap_or_default();
        return Err(Error::new(
            minijinja::ErrorKind::UndefinedError,
            format!("object of type '{kind}' has no attribute '{what}'"),
        ));
    }
    Ok(out)
}
