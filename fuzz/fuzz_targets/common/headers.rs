//! Helpers shared by the fuzz targets (included with `#[path]`).

/// The valid `name: value` lines of `head`.
pub fn header_lines(head: &[u8]) -> impl Iterator<Item = (http::HeaderName, http::HeaderValue)> + '_ {
    head.split(|b| *b == b'\n').filter_map(|line| {
        let colon = line.iter().position(|b| *b == b':')?;
        let name = http::HeaderName::from_bytes(&line[..colon]).ok()?;
        let value = http::HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).ok()?;
        Some((name, value))
    })
}
