//! `pgrisk live --format html` on a real database: a page that needs nothing from the
//! network, escapes what the server names, and renders in headless Chromium.

use std::path::Path;
use std::process::Command;

use super::*;

/// Tables of different sizes (one with TOAST, one whose name is markup) and their indexes.
const SHOP: &str = r#"
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, status text, created_at timestamptz);
INSERT INTO orders SELECT i, i % 500, CASE WHEN i % 10 = 0 THEN 'shipped' ELSE 'new' END,
       now() - i * interval '1 minute' FROM generate_series(1, 40000) i;
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX orders_created_idx ON orders (created_at, status);
CREATE TABLE customers (id bigint PRIMARY KEY, name text);
INSERT INTO customers SELECT i, 'customer ' || i FROM generate_series(1, 5000) i;
CREATE TABLE documents (id int PRIMARY KEY, body text);
ALTER TABLE documents ALTER COLUMN body SET STORAGE EXTERNAL;
INSERT INTO documents SELECT i, repeat(md5(i::text), 400) FROM generate_series(1, 300) i;
CREATE TABLE "<script>alert(1)</script>" (id int);
INSERT INTO "<script>alert(1)</script>" VALUES (1);
ANALYZE;
"#;

/// Elements HTML closes by itself.
const VOID: [&str; 6] = ["meta", "br", "hr", "img", "input", "link"];

/// Every opened element closed, in order (a light check: HTML is not XML, but this page is
/// written to nest). Text inside `<style>` is skipped.
fn check_nesting(html: &str) {
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let end = rest.find('>').expect("an unterminated tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(!name.is_empty(), "not a tag: <{tag}>");
        if let Some(closing) = tag.strip_prefix('/') {
            let top = open.pop();
            assert_eq!(
                top.as_deref(),
                Some(closing.trim()),
                "</{closing}> closes {top:?}"
            );
        } else if !tag.ends_with('/') && !VOID.contains(&name.as_str()) {
            if name == "style" {
                rest = &rest[rest.find("</style>").expect("</style>")..];
            }
            open.push(name);
        }
    }
    assert!(open.is_empty(), "never closed: {open:?}");
}

/// Nothing is loaded from anywhere, and the only links are the rule docs (a URL in a
/// message is text, and harmless).
fn check_self_contained(html: &str) {
    for resource in [
        "<script", "<link", "<img", "<iframe", "<object", "@import", "url(", "src=",
    ] {
        assert!(
            !html.contains(resource),
            "the page loads something: {resource}"
        );
    }
    let docs = format!("{}/blob/main/rules/", env!("CARGO_PKG_REPOSITORY"));
    let links: Vec<&str> = html
        .split("href=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    for link in &links {
        assert!(
            link.starts_with(&docs),
            "a link that is not a rule doc: {link}"
        );
    }
    assert_eq!(
        html.matches("xmlns=").count(),
        html.matches("<svg ").count(),
        "namespaces only on the inline SVG charts"
    );
}

/// The first colour of the chart palette (the `table` part of the size bars).
const BAR_BLUE: (u8, u8, u8) = (0x3b, 0x6e, 0xa5);

/// Width, height, the share of pixels darker than the page background, the number of
/// colours, and the number of pixels of [`BAR_BLUE`].
fn pixel_variety(png_path: &Path) -> (u32, u32, f64, usize, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).expect("the screenshot"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    let channels = info.color_type.samples();
    let pixels = &pixels[..info.buffer_size()];
    let mut colours = std::collections::HashSet::new();
    let (mut inked, mut blue) = (0usize, 0usize);
    for pixel in pixels.chunks(channels) {
        let rgb = (pixel[0], pixel[1], pixel[2 % channels]);
        colours.insert(rgb);
        if rgb.0 < 200 || rgb.1 < 200 || rgb.2 < 200 {
            inked += 1;
        }
        if rgb == BAR_BLUE {
            blue += 1;
        }
    }
    let total = (info.width * info.height) as f64;
    (
        info.width,
        info.height,
        inked as f64 / total,
        colours.len(),
        blue,
    )
}

#[test]
fn the_html_report_is_self_contained_and_renders_in_chromium() {
    let cluster = start_cluster();
    psql(&cluster, "postgres", "CREATE DATABASE shop");
    psql(&cluster, "shop", SHOP);
    let dsn = support::dsn(&cluster, "shop");
    let output = support::pgrisk(&["live", "--no-config", "--dsn", &dsn, "--format", "html"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{stderr}");
    let html = String::from_utf8(output.stdout).expect("UTF-8");

    assert!(html.starts_with("<!DOCTYPE html>\n"), "{html}");
    check_nesting(&html);
    check_self_contained(&html);
    assert!(
        !html.contains("<script>alert"),
        "a table name injected markup"
    );
    assert!(html.contains("public.&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        html.contains("PostgreSQL 1"),
        "the server version in the header"
    );

    // the size chart: one stacked bar per table, the largest first
    let sizes = html
        .split("<figcaption>Table and index sizes</figcaption>")
        .nth(1)
        .expect("a size chart")
        .split("</svg>")
        .next()
        .unwrap();
    let labels: Vec<&str> = sizes
        .split("<text class=\"label\"")
        .skip(1)
        .map(|t| t.split('>').nth(1).unwrap().trim_end_matches("</text"))
        .collect();
    assert_eq!(
        labels[..2],
        ["public.orders", "public.documents"],
        "largest first: {labels:?}"
    );
    assert_eq!(labels.len(), 4, "{labels:?}");
    for legend in [">table</text>", ">indexes</text>", ">toast</text>"] {
        assert!(sizes.contains(legend), "{legend} in {sizes}");
    }
    let dir = support::root().join("target/live-report");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("live-report.html");
    let shot = dir.join("live-report.png");
    std::fs::write(&page, &html).unwrap();
    let run = Command::new(support::root().join("scripts/screenshot-html.sh"))
        .args([&page, &shot])
        .output()
        .expect("run scripts/screenshot-html.sh");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (width, height, inked, colours, blue) = pixel_variety(&shot);
    assert_eq!((width, height), (1280, 2000));
    // the orders bar alone is some 200 × 16 px of it
    assert!(
        blue > 1000,
        "the size chart's bars are not drawn: {blue} px"
    );
    assert!(
        inked > 0.005,
        "the page looks blank: {inked:.3} of pixels inked"
    );
    assert!(
        colours > 40,
        "too few colours for text and charts: {colours}"
    );
}
