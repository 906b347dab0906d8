//! The self-contained HTML audit page: no external asset (a Content-Security-Policy forbids any),
//! a summary, a per-month chart of secrets introduced (inline SVG), and a table that its script
//! fills from embedded JSON, sorts by any column and filters (text, provider, still present).
//! The URL fragment presets the view: `#q=TEXT&provider=NAME&present=1&sort=COLUMN&dir=desc`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::audit::render::advice;
use crate::audit::{AuditReport, AuditSecret};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// JSON made safe inside a `<script>` element: no `<`, `>`, `&` or line separators left raw.
fn script_json(value: &serde_json::Value) -> String {
    let text = serde_json::to_string(value).unwrap_or_else(|_| "[]".into());
    text.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// (year, month) of a time in seconds since the epoch, in UTC.
pub fn year_month(seconds: i64) -> (i64, u32) {
    // Howard Hinnant's civil_from_days.
    let z = seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, u32::try_from(month).unwrap_or(1))
}

/// Most bars in the chart of secrets introduced per month (100 years).
pub const CHART_MONTHS: i64 = 1200;

/// Secrets first seen per month, every month from the oldest to the newest (at most
/// [`CHART_MONTHS`]; older ones counted in the first).
pub fn per_month(report: &AuditReport) -> Vec<((i64, u32), usize)> {
    let mut counts: BTreeMap<(i64, u32), usize> = BTreeMap::new();
    for s in &report.secrets {
        *counts
            .entry(year_month(s.first_seen().commit.time))
            .or_insert(0) += 1;
    }
    let (Some(&first), Some(&last)) = (counts.keys().next(), counts.keys().next_back()) else {
        return Vec::new();
    };
    // At most CHART_MONTHS bars (a commit dated centuries off would otherwise make millions):
    // what is older than the first bar is counted in it.
    let month_index = |(y, m): (i64, u32)| y.saturating_mul(12).saturating_add(i64::from(m) - 1);
    let start_index = month_index(first).max(month_index(last).saturating_sub(CHART_MONTHS - 1));
    let first = (
        start_index.div_euclid(12),
        (start_index.rem_euclid(12) + 1) as u32,
    );
    let older: usize = counts.range(..first).map(|(_, n)| n).sum();
    *counts.entry(first).or_insert(0) += older;
    let mut out = Vec::new();
    let (mut y, mut m) = first;
    while (y, m) <= last {
        out.push(((y, m), counts.get(&(y, m)).copied().unwrap_or(0)));
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
    }
    out
}

fn chart(report: &AuditReport) -> String {
    let months = per_month(report);
    if months.is_empty() {
        return "<p>No secrets.</p>".into();
    }
    let max = months.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let bar = 14usize;
    let gap = 4usize;
    let height = 160usize;
    let width = (60 + months.len() * (bar + gap)).max(160);
    let label_every = (months.len() / 12).max(1);
    let mut svg = format!(
        "<svg id=\"per-month\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"Secrets first added per month\" width=\"{width}\" height=\"{}\" viewBox=\"0 0 {width} {}\">",
        height + 40,
        height + 40
    );
    let _ = write!(
        svg,
        "<text x=\"0\" y=\"12\" class=\"axis\">{max}</text><line x1=\"30\" y1=\"{height}\" x2=\"{width}\" y2=\"{height}\" class=\"axis-line\"/>"
    );
    for (i, ((y, m), n)) in months.iter().enumerate() {
        let x = 36 + i * (bar + gap);
        let h = n * (height - 20) / max;
        let _ = write!(
            svg,
            "<rect class=\"bar\" data-month=\"{y:04}-{m:02}\" data-count=\"{n}\" x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"{h}\"><title>{y:04}-{m:02}: {n}</title></rect>",
            height - h
        );
        if *n > 0 {
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" class=\"count\">{n}</text>",
                x + 2,
                height - h - 3
            );
        }
        if i % label_every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{x}\" y=\"{}\" class=\"axis\">{y:04}-{m:02}</text>",
                height + 16
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#1d1d1f;background:#fff}
h1{font-size:1.6em;margin:0 0 .2em} h2{font-size:1.2em;margin-top:1.6em}
dl.summary{display:grid;grid-template-columns:max-content auto;gap:.2em 1.2em}
dl.summary dt{font-weight:600}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f6;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \25B2"} th[aria-sort=descending]::after{content:" \25BC"}
td.fp,td.secret{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
tr.present td.present{color:#b00020;font-weight:600}
#controls{margin:.6em 0;display:flex;gap:1em;align-items:center;flex-wrap:wrap}
#controls input[type=search]{min-width:22em;padding:.3em}
.bar{fill:#d9534f} .axis{font-size:10px;fill:#555} .count{font-size:9px;fill:#333} .axis-line{stroke:#999}
details{margin:.4em 0;padding:.4em .8em;border:1px solid #e2e2e2;border-radius:4px}
summary{cursor:pointer;font-weight:600}
code{font-family:ui-monospace,Menlo,Consolas,monospace}
"#;

const SCRIPT: &str = r##"
(function () {
  "use strict";
  var rows = JSON.parse(document.getElementById("audit-data").textContent);
  var table = document.getElementById("secrets");
  var tbody = table.tBodies[0];
  var filter = document.getElementById("filter");
  var provider = document.getElementById("provider");
  var present = document.getElementById("present");
  var count = document.getElementById("count");
  var columns = ["n", "provider", "rule", "confidence", "secret", "first", "author", "where", "last", "places", "present", "fingerprint"];
  var sortBy = { first: "firstTime", last: "lastTime", confidence: "confidenceRank" };
  var state = { key: "first", dir: 1 };
  var params = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (params.get("sort") && columns.indexOf(params.get("sort")) >= 0) { state.key = params.get("sort"); }
  if (params.get("dir") === "desc") { state.dir = -1; }
  filter.value = params.get("q") || "";
  provider.value = params.get("provider") || "";
  present.checked = params.get("present") === "1";
  function value(row, key) { return row[sortBy[key] || key]; }
  function compare(a, b) {
    var x = value(a, state.key), y = value(b, state.key), c;
    if (typeof x === "number" && typeof y === "number") { c = x - y; }
    else { c = String(x).localeCompare(String(y)); }
    return c * state.dir || a.n - b.n;
  }
  function matches(row) {
    if (provider.value && row.provider !== provider.value) { return false; }
    if (present.checked && row.present !== "yes") { return false; }
    var q = filter.value.trim().toLowerCase();
    if (!q) { return true; }
    return columns.some(function (c) { return String(row[c]).toLowerCase().indexOf(q) >= 0; }) ||
      String(row.repository).toLowerCase().indexOf(q) >= 0;
  }
  function render() {
    var shown = rows.filter(matches).sort(compare);
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    shown.forEach(function (row) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-fingerprint", row.fingerprint);
      if (row.present === "yes") { tr.className = "present"; }
      columns.forEach(function (c) {
        var td = document.createElement("td");
        td.className = c === "fingerprint" ? "fp" : c;
        if (c === "n") {
          var a = document.createElement("a");
          a.href = "#secret-" + row.n;
          a.textContent = String(row.n);
          td.appendChild(a);
        } else {
          td.textContent = String(row[c]);
        }
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    count.textContent = shown.length + " of " + rows.length + " secrets shown";
    table.setAttribute("data-rendered", String(shown.length));
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      if (th.getAttribute("data-key") === state.key) {
        th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    th.addEventListener("click", function () {
      var key = th.getAttribute("data-key");
      if (state.key === key) { state.dir = -state.dir; } else { state.key = key; state.dir = 1; }
      render();
    });
  });
  [filter, provider, present].forEach(function (el) {
    el.addEventListener("input", render);
    el.addEventListener("change", render);
  });
  render();
})();
"##;

/// The HTML page.
pub fn html(report: &AuditReport) -> String {
    let mut out = String::new();
    head(&mut out);
    summary(&mut out, report);
    controls(&mut out, report);
    table(&mut out);
    out.push_str("<h2>Details</h2>\n<div id=\"details\">\n");
    let multi = report.repositories.len() > 1;
    for (i, sec) in report.secrets.iter().enumerate() {
        details(&mut out, i + 1, sec, multi);
    }
    out.push_str("</div>\n<h2>What to do</h2>\n<ol id=\"advice\">\n");
    for line in advice() {
        let text = line.split_once(". ").map_or(line, |(_, t)| t);
        let _ = writeln!(out, "<li>{}</li>", escape(text));
    }
    out.push_str("</ol>\n<script type=\"application/json\" id=\"audit-data\">");
    out.push_str(&script_json(&rows(report)));
    out.push_str("</script>\n<script>");
    out.push_str(SCRIPT);
    out.push_str("</script>\n</body></html>\n");
    out
}

/// The document head (Content-Security-Policy, style) and the title.
fn head(out: &mut String) {
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>leakgate audit</title>\n<style>");
    out.push_str(STYLE);
    out.push_str("</style></head>\n<body>\n<h1>leakgate audit</h1>\n");
}

/// What was read, the summary list, and the chart of secrets first added per month.
fn summary(out: &mut String, report: &AuditReport) {
    let _ = writeln!(
        out,
        "<p id=\"scanned\">{}</p>",
        escape(&crate::audit::render::scanned_text(report))
    );
    out.push_str("<h2>Summary</h2>\n<dl class=\"summary\" id=\"summary\">\n");
    for (k, v) in &crate::audit::render::summary_for_html(report) {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
    }
    out.push_str("</dl>\n<h2>Secrets first added per month</h2>\n");
    out.push_str(&chart(report));
}

/// The table's controls: a text filter, a provider choice, and "still present" only.
fn controls(out: &mut String, report: &AuditReport) {
    out.push_str("\n<h2>Secrets</h2>\n<div id=\"controls\">\n");
    out.push_str("<input id=\"filter\" type=\"search\" placeholder=\"Filter: provider, rule, path, author, fingerprint...\" aria-label=\"Filter\">\n");
    out.push_str(
        "<select id=\"provider\" aria-label=\"Provider\"><option value=\"\">All providers</option>",
    );
    let providers: std::collections::BTreeSet<&str> = report
        .secrets
        .iter()
        .map(|s| s.provider.name.as_str())
        .collect();
    for p in providers {
        let _ = write!(
            out,
            "<option value=\"{}\">{}</option>",
            escape(p),
            escape(p)
        );
    }
    out.push_str("</select>\n<label><input type=\"checkbox\" id=\"present\"> still present at a branch tip</label>\n<span id=\"count\"></span>\n</div>\n");
}

/// The secrets table: its header row and an empty body for the script to fill.
fn table(out: &mut String) {
    out.push_str("<table id=\"secrets\"><thead><tr>");
    for (key, label) in [
        ("n", "#"),
        ("provider", "Provider"),
        ("rule", "Rule"),
        ("confidence", "Confidence"),
        ("secret", "Value (redacted)"),
        ("first", "First added"),
        ("author", "By"),
        ("where", "Where"),
        ("last", "Last added"),
        ("places", "Places"),
        ("present", "Still present"),
        ("fingerprint", "Fingerprint"),
    ] {
        let _ = write!(out, "<th data-key=\"{key}\" scope=\"col\">{label}</th>");
    }
    out.push_str("</tr></thead><tbody></tbody></table>\n");
    out.push_str("<noscript><p>The table needs JavaScript; every secret is also listed below.</p></noscript>\n");
}

/// Secret number `n` as a `<details>` element: what, where it still is, places, remediation.
fn details(out: &mut String, n: usize, sec: &AuditSecret, multi: bool) {
    let _ = writeln!(
        out,
        "<details id=\"secret-{n}\"><summary>{n}. {} ({}) <code>{}</code></summary>",
        escape(&sec.description),
        escape(&sec.provider.name),
        escape(&sec.redacted)
    );
    let _ = writeln!(
        out,
        "<p>Fingerprint <code>{}</code>; rule <code>{}</code>; {} confidence, {} severity.</p>",
        escape(&sec.fingerprint),
        escape(&sec.rule),
        sec.confidence,
        sec.severity.as_str()
    );
    if sec.present_at.is_empty() {
        out.push_str("<p>Now: in history only (no branch tip holds it).</p>\n");
    } else {
        let tips: Vec<String> = sec
            .present_at
            .iter()
            .map(|t| {
                if multi {
                    escape(&format!("{}:{}", t.repository, t.branch))
                } else {
                    escape(&t.branch)
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "<p><strong>Still present at</strong> {}.</p>",
            tips.join(", ")
        );
    }
    places(out, sec, multi);
    let r = &sec.provider.remediation;
    let _ = writeln!(
        out,
        "<p><strong>Revoke:</strong> {}<br><strong>Rotate:</strong> {}<br><strong>Docs:</strong> {}</p></details>",
        escape(r.revoke.trim()),
        escape(r.rotate.trim()),
        escape(r.docs.trim())
    );
}

/// The table of every place a secret was added (with the repository when there are several).
fn places(out: &mut String, sec: &AuditSecret, multi: bool) {
    out.push_str("<table class=\"places\"><thead><tr><th>Date</th><th>Author</th><th>Commit</th>");
    if multi {
        out.push_str("<th>Repository</th>");
    }
    out.push_str("<th>Path</th><th>Line</th></tr></thead><tbody>\n");
    for o in &sec.occurrences {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td>",
            escape(&o.commit.date),
            escape(&format!("{} <{}>", o.commit.author, o.commit.email)),
            escape(&o.commit.id)
        );
        if multi {
            let _ = write!(out, "<td>{}</td>", escape(&o.repository));
        }
        let _ = writeln!(out, "<td>{}</td><td>{}</td></tr>", escape(&o.path), o.line);
    }
    out.push_str("</tbody></table>\n");
}

/// The table's rows as data for the page's script (text only; the script sets `textContent`).
fn rows(report: &AuditReport) -> serde_json::Value {
    let multi = report.repositories.len() > 1;
    let list: Vec<serde_json::Value> = report
        .secrets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let f = s.first_seen();
            let l = s.last_seen();
            let place = |o: &crate::audit::Occurrence| {
                if multi {
                    format!("{}: {}:{}", o.repository, o.path, o.line)
                } else {
                    format!("{}:{}", o.path, o.line)
                }
            };
            serde_json::json!({
                "n": i + 1,
                "provider": s.provider.name,
                "rule": s.rule,
                "confidence": s.confidence.as_str(),
                "confidenceRank": s.confidence as u8,
                "secret": s.redacted,
                "first": f.commit.date.get(..10).unwrap_or(&f.commit.date),
                "firstTime": f.commit.time,
                "author": format!("{} <{}>", f.commit.author, f.commit.email),
                "where": place(f),
                "last": l.commit.date.get(..10).unwrap_or(&l.commit.date),
                "lastTime": l.commit.time,
                "places": s.occurrences.len(),
                "present": if s.present_at.is_empty() { "no" } else { "yes" },
                "fingerprint": s.fingerprint,
                "repository": f.repository,
            })
        })
        .collect();
    serde_json::Value::Array(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_from_epoch_seconds() {
        assert_eq!(year_month(0), (1970, 1));
        assert_eq!(year_month(1_767_225_600), (2026, 1)); // 2026-01-01T00:00:00Z
        assert_eq!(year_month(951_782_400), (2000, 2)); // 2000-02-29
        assert_eq!(year_month(-1), (1969, 12));
    }

    #[test]
    fn script_json_cannot_close_the_script() {
        let v = serde_json::json!(["</script><b>&"]);
        let s = script_json(&v);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
    }

    #[test]
    fn escape_html() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
