//! What intake keeps of an open-channel ballot for stuffing detection: keyed hashes of where
//! it came from and what client sent it, a coarse time bucket, and fingerprints of its
//! content. Nothing here can be read back into an address, a browser or a comment without
//! the deployment's key, and every signal is deleted when the round is published.

use crate::{Ballot, IndicatorMask, UnitId};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::IpAddr;

/// Minutes per time bucket: coarse enough that a bucket says nothing about one person.
pub const BUCKET_MINUTES: i64 = 10;

/// The shortest comment (in characters kept by [`normalize_comment`]) whose fingerprint
/// counts as evidence: short phrases such as “态度差” are what everyone writes.
pub const MIN_COMMENT_CHARS: usize = 8;

/// What the web knows about the client that sent a ballot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientFacts {
    /// The client's address (after trusted proxies), if known.
    pub addr: Option<IpAddr>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The `Accept-Language` header.
    pub accept_language: Option<String>,
    /// The first-party cookie the web form sets, if the ballot came through it.
    pub cookie: Option<String>,
}

/// The signals stored beside one open-channel ballot, all opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signals {
    /// Keyed hash of the client address (an IPv6 client's /64, which one subscriber holds).
    pub addr: i64,
    /// Keyed hash of its network: an IPv4 /24 or an IPv6 /48.
    pub net: i64,
    /// Keyed hash of the User-Agent and Accept-Language together.
    pub agent: i64,
    /// Keyed hash of the web form's cookie, if any.
    pub cookie: Option<i64>,
    /// Minutes since the epoch divided by [`BUCKET_MINUTES`].
    pub bucket: i64,
    /// Keyed hash of the shape: how many units, which indicators, whether a comment, with
    /// the units themselves left out.
    pub shape: i64,
    /// Keyed hash of the content: named units with their indicators.
    pub content: i64,
    /// 64-bit SimHash of the normalized comments, if they are long enough to be evidence.
    pub comment: Option<i64>,
}

impl Signals {
    /// The signals of `ballot`, sent by `client` at `minute` (minutes since the epoch).
    pub fn of(key: &[u8], client: &ClientFacts, ballot: &Ballot, minute: i64) -> Self {
        let h = |label: &str, value: &str| keyed(key, label, value.as_bytes());
        let (addr, net) = match client.addr {
            Some(ip) => {
                let (a, n) = prefixes(ip);
                (h("addr", &a), h("net", &n))
            }
            None => (h("addr", "?"), h("net", "?")),
        };
        let agent = h(
            "agent",
            &format!(
                "{}\u{1f}{}",
                client.user_agent.as_deref().unwrap_or("").trim(),
                client.accept_language.as_deref().unwrap_or("").trim()
            ),
        );
        let cookie = client
            .cookie
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|c| h("cookie", c));
        let mut units: Vec<(UnitId, IndicatorMask)> = ballot
            .nominations
            .iter()
            .map(|n| (n.unit_id, n.indicators))
            .collect();
        units.sort_by_key(|(u, m)| (u.0, m.0));
        let content = h(
            "content",
            &units
                .iter()
                .map(|(u, m)| format!("{}:{}", u.0, m.0))
                .collect::<Vec<_>>()
                .join(","),
        );
        let mut masks: Vec<u16> = units.iter().map(|(_, m)| m.0).collect();
        masks.sort_unstable();
        let commented = ballot
            .nominations
            .iter()
            .filter(|n| n.comment.is_some())
            .count();
        let shape = h("shape", &format!("{masks:?}{commented}"));
        let text: String = ballot
            .nominations
            .iter()
            .filter_map(|n| n.comment.as_deref())
            .map(normalize_comment)
            .collect();
        let comment = (text.chars().count() >= MIN_COMMENT_CHARS).then(|| simhash(key, &text));
        Signals {
            addr,
            net,
            agent,
            cookie,
            bucket: minute.div_euclid(BUCKET_MINUTES),
            shape,
            content,
            comment,
        }
    }
}

/// The address as a subscriber holds it, and its network, as text: an IPv4 address and its
/// /24; an IPv6 /64 and its /48. IPv4-mapped IPv6 addresses count as IPv4.
pub fn prefixes(ip: IpAddr) -> (String, String) {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            (v4.to_string(), format!("{}.{}.{}.0/24", o[0], o[1], o[2]))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            (
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]),
                format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]),
            )
        }
    }
}

/// The address with an IPv4-mapped IPv6 address turned back into IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The key a rate limit counts a client under: an IPv4 address, or an IPv6 client's /64
/// (one subscriber is given a whole /64, so counting single IPv6 addresses counts nothing).
pub fn rate_limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

fn keyed(key: &[u8], label: &str, value: &[u8]) -> i64 {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(b"minping signal ");
    mac.update(label.as_bytes());
    mac.update(b"\0");
    mac.update(value);
    let bytes = mac.finalize().into_bytes();
    i64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"))
}

/// A comment reduced to what a template keeps: letters and CJK characters, lower-cased;
/// spaces, punctuation, digits and emoji dropped, so “态度 差!!” and “态度差。” are one text.
pub fn normalize_comment(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect()
}

/// 64-bit SimHash over character bigrams, keyed with the deployment's key: texts that differ
/// in a few characters differ in a few bits, so templated comments with words swapped stay
/// close; without the key, no one can craft texts that land on chosen bits.
pub fn simhash(key: &[u8], text: &str) -> i64 {
    let chars: Vec<char> = text.chars().collect();
    let mut weights = [0i32; 64];
    let mut add = |gram: &[char]| {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
        mac.update(b"minping simhash ");
        for c in gram {
            mac.update(c.encode_utf8(&mut [0; 4]).as_bytes());
        }
        let bytes = mac.finalize().into_bytes();
        let h = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        for (bit, w) in weights.iter_mut().enumerate() {
            *w += if h >> bit & 1 == 1 { 1 } else { -1 };
        }
    };
    if chars.len() < 2 {
        add(&chars);
    } else {
        for gram in chars.windows(2) {
            add(gram);
        }
    }
    let bits = weights.iter().enumerate().fold(
        0u64,
        |acc, (bit, w)| if *w > 0 { acc | 1 << bit } else { acc },
    );
    bits as i64
}

/// How many bits two SimHashes differ in.
pub fn distance(a: i64, b: i64) -> u32 {
    (a ^ b).count_ones()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Channel, Nomination};

    fn ballot(units: &[(i64, u16)], comment: Option<&str>) -> Ballot {
        Ballot {
            channel: Channel::Open,
            code: None,
            nominations: units
                .iter()
                .map(|&(u, m)| Nomination {
                    unit_id: UnitId(u),
                    indicators: IndicatorMask(m),
                    comment: comment.map(String::from),
                })
                .collect(),
            exposure: vec![],
        }
    }

    #[test]
    fn an_ipv6_subscriber_is_one_key_and_one_address() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(rate_limit_key(a), rate_limit_key(b));
        assert_ne!(rate_limit_key(a), rate_limit_key(c));
        assert_eq!(prefixes(a).0, prefixes(b).0);
        assert_ne!(prefixes(a).0, prefixes(c).0);
        assert_eq!(prefixes(a).1, prefixes(c).1, "same /48");
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(
            rate_limit_key(mapped),
            "10.1.2.3".parse::<IpAddr>().unwrap()
        );
        assert_eq!(prefixes(mapped).1, "10.1.2.0/24");
    }

    #[test]
    fn signals_are_keyed_and_content_ignores_order() {
        let client = ClientFacts {
            addr: Some("10.0.0.7".parse().unwrap()),
            user_agent: Some("Mozilla/5.0".into()),
            accept_language: Some("zh-CN".into()),
            cookie: None,
        };
        let one = Signals::of(b"k1", &client, &ballot(&[(1, 16), (2, 1)], None), 600);
        let two = Signals::of(b"k1", &client, &ballot(&[(2, 1), (1, 16)], None), 609);
        assert_eq!(one, two, "same content in another order, same bucket");
        let other_key = Signals::of(b"k2", &client, &ballot(&[(1, 16), (2, 1)], None), 600);
        assert_ne!(one.addr, other_key.addr);
        assert_ne!(one.content, other_key.content);
        let later = Signals::of(b"k1", &client, &ballot(&[(1, 16), (2, 1)], None), 610);
        assert_eq!(later.bucket, one.bucket + 1);
        assert_eq!(one.comment, None);
    }

    #[test]
    fn templated_comments_stay_close_and_different_ones_do_not() {
        let a = simhash(
            b"k",
            &normalize_comment("窗口工作人员态度冷漠，办事要求送礼，群众意见很大"),
        );
        let b = simhash(
            b"k",
            &normalize_comment("窗口工作人员态度冷漠！办事要求送红包，群众意见很大。"),
        );
        let c = simhash(
            b"k",
            &normalize_comment("材料一次性告知做不到，跑了四趟还没办成营业执照变更"),
        );
        assert!(distance(a, b) <= 12, "{}", distance(a, b));
        assert!(distance(a, c) > 16, "{}", distance(a, c));
        assert_eq!(normalize_comment("态度 差!!12"), "态度差");
        let short = Signals::of(
            b"k",
            &ClientFacts::default(),
            &ballot(&[(1, 1)], Some("态度差")),
            0,
        );
        assert_eq!(short.comment, None, "short phrases are not evidence");
    }
}
