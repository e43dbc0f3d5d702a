//! `ipaddr`-lite: the common queries of ansible.utils.ipaddr on IPv4 and IPv6 addresses and
//! networks, without the netaddr library.

use minijinja::{Error, Value};
use std::net::IpAddr;

/// An address with an optional prefix length (`10.0.0.5/24`).
struct Cidr {
    addr: IpAddr,
    prefix: Option<u8>,
}

fn parse(s: &str) -> Option<Cidr> {
    let (a, p) = match s.trim().split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s.trim(), None),
    };
    let addr: IpAddr = a.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match p {
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= max => Some(n),
            // A dotted netmask (`255.255.255.0`).
            _ => {
                let m: std::net::Ipv4Addr = p.parse().ok()?;
                let bits = u32::from(m);
                if bits.leading_ones() + bits.trailing_zeros() != 32 {
                    return None;
                }
                Some(bits.leading_ones() as u8)
            }
        },
        None => None,
    };
    Some(Cidr { addr, prefix })
}

fn mask_bits(c: &Cidr) -> (u128, u8) {
    let max = if c.addr.is_ipv4() { 32 } else { 128 };
    let p = c.prefix.unwrap_or(max);
    let mask = if p == 0 { 0 } else { (!0u128) << (max - p) };
    let mask = if max == 32 { mask & 0xffff_ffff } else { mask };
    (mask, max)
}

fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u32::from(v) as u128,
        IpAddr::V6(v) => u128::from(v),
    }
}

fn from_u128(v: u128, v4: bool) -> String {
    if v4 {
        std::net::Ipv4Addr::from(v as u32).to_string()
    } else {
        std::net::Ipv6Addr::from(v).to_string()
    }
}

fn query(c: &Cidr, q: &str, original: &str) -> Value {
    let v4 = c.addr.is_ipv4();
    let (mask, max) = mask_bits(c);
    let ip = to_u128(c.addr);
    let net = ip & mask;
    let prefix = c.prefix.unwrap_or(max);
    match q {
        "" => Value::from(original.trim()),
        "address" | "ip" => Value::from(c.addr.to_string()),
        "network" => Value::from(from_u128(net, v4)),
        "netmask" => Value::from(from_u128(mask, v4)),
        "prefix" => Value::from(prefix),
        "broadcast" if v4 => Value::from(from_u128(net | (!mask & 0xffff_ffff), true)),
        "net" | "subnet" | "cidr" => Value::from(format!("{}/{prefix}", from_u128(net, v4))),
        "host" => Value::from(format!("{}/{prefix}", c.addr)),
        "public" => Value::from(!is_private(c.addr)),
        "private" => Value::from(is_private(c.addr)),
        "version" => Value::from(if v4 { 4 } else { 6 }),
        "size" => Value::from(if prefix as u32 >= max as u32 {
            1u64
        } else {
            1u64 << (max - prefix).min(63)
        }),
        // A network as the query: the value when it lies inside that network.
        other => match parse(other) {
            Some(n) if n.addr.is_ipv4() == v4 => {
                let (nmask, _) = mask_bits(&n);
                let inside =
                    (to_u128(n.addr) & nmask) == (ip & nmask) && prefix >= n.prefix.unwrap_or(max);
                if inside {
                    Value::from(original.trim())
                } else {
                    Value::from(false)
                }
            }
            _ => Value::from(false),
        },
    }
}

fn is_private(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => v.is_private() || v.is_loopback() || v.is_link_local(),
        IpAddr::V6(v) => v.is_loopback() || (v.segments()[0] & 0xfe00) == 0xfc00,
    }
}

fn filter(v: Value, q: Option<String>, want: Option<bool>) -> Result<Value, Error> {
    let q = q.unwrap_or_default();
    let one = |s: &str| -> Value {
        match parse(s) {
            Some(c) if want.is_none_or(|w| w == c.addr.is_ipv4()) => query(&c, &q, s),
            _ => Value::from(false),
        }
    };
    if let Some(s) = v.as_str() {
        return Ok(one(s));
    }
    if v.kind() == minijinja::value::ValueKind::Seq {
        let out: Vec<Value> = v
            .try_iter()?
            .filter_map(|i| i.as_str().map(one))
            .filter(|r| r.kind() != minijinja::value::ValueKind::Bool || r.is_true())
            .collect();
        return Ok(Value::from(out));
    }
    Ok(Value::from(false))
}

pub fn ipaddr(v: Value, q: Option<String>) -> Result<Value, Error> {
    filter(v, q, None)
}

pub fn ipv4(v: Value, q: Option<String>) -> Result<Value, Error> {
    filter(v, q, Some(true))
}

pub fn ipv6(v: Value, q: Option<String>) -> Result<Value, Error> {
    filter(v, q, Some(false))
}
