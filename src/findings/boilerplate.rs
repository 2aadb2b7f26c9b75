//! Segments that are not prose: link lists, "Read also:" and "Source:" lines, credits,
//! bylines, sign-offs; and the link targets and URLs whose words are not prose either.

use crate::segment::{sentences, Segment, SegmentKind};
use crate::span::Span;

/// Byte ranges (absolute) of link targets and bare URLs in `body`, whose words are not prose.
pub(super) fn link_ranges(body: &str, base: usize) -> Vec<Span> {
    let mut ranges = Vec::new();
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Only these bytes can start a range; every other char is stepped over.
        match bytes[i..]
            .iter()
            .position(|b| matches!(b, b']' | b'h' | b'w' | b'<'))
        {
            Some(k) => i += k,
            None => break,
        }
        let rest = &body[i..];
        let end = if rest.starts_with("](") {
            rest.find(')').map(|e| i + e + 1)
        } else if rest.starts_with("http://")
            || rest.starts_with("https://")
            || rest.starts_with("www.")
        {
            Some(
                i + rest
                    .find(|c: char| c.is_whitespace() || c == '>' || c == ')')
                    .unwrap_or(rest.len()),
            )
        } else if rest.starts_with("<http") {
            rest.find('>').map(|e| i + e + 1)
        } else {
            None
        };
        match end {
            Some(e) => {
                ranges.push(Span::new(base + i, base + e));
                i = e;
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    ranges
}

/// Lead words of lines that are not part of an article's prose.
const BOILERPLATE_PREFIXES: &[&str] = &[
    "read also",
    "read more",
    "see also",
    "related:",
    "related articles",
    "related posts",
    "more:",
    "source:",
    "sources:",
    "via:",
    "photo:",
    "photos:",
    "image:",
    "picture:",
    "credit:",
    "credits:",
    "copyright",
    "©",
    "(c)",
    "all rights reserved",
    "follow us",
    "share this",
    "subscribe",
    "posted by",
    "written by",
    "author:",
    "authors:",
    "originally published",
    "edited by",
    "reporting by",
    "tags:",
    "filed under",
    "click here",
    "sign up",
    "advertisement",
    "for questions",
    "for more information",
    "questions?",
    "feedback:",
];

/// Openers of closing formulas that take leave of the reader rather than restate.
const SIGN_OFFS: &[&str] = &[
    "we hope",
    "i hope",
    "hopefully",
    "thank you",
    "thanks",
    "many thanks",
    "happy ",
    "stay tuned",
    "feel free",
    "let us know",
    "we look forward",
    "looking forward",
    "if you have any questions",
    "see you",
    "cheers",
    "enjoy",
];

/// The first few hundred chars of `s`, lowercased: all that cue and prefix checks read
/// (lowercasing a whole 50 MB line would cost more than analysing it).
pub(super) fn lower_head(s: &str) -> String {
    let ascii = &s.as_bytes()[..s.len().min(300)];
    if ascii.is_ascii() {
        // 300 ASCII bytes are 300 chars, and lowercase as ASCII.
        return s[..ascii.len()].to_ascii_lowercase();
    }
    let end = s.char_indices().nth(300).map_or(s.len(), |(i, _)| i);
    s[..end].to_lowercase()
}

/// A single question, or a paragraph opening with a closing formula.
pub(super) fn is_sign_off(body: &str, text: &str, span: Span) -> bool {
    let lower = lower_head(body.trim_start_matches(|c: char| "-*+>#• \t".contains(c)));
    SIGN_OFFS.iter().any(|s| lower.starts_with(s))
        || (body.trim_end().ends_with('?') && sentences(text, span).len() == 1)
}

/// Phrases of a one-sentence pointer to a link.
const POINTER_PHRASES: &[&str] = &[
    "is available",
    "are available",
    "can be found",
    "see [",
    "check out",
    "more details",
    "read more",
    "learn more",
    "find out more",
    "more information",
    "is documented",
];

/// Link lists, credits, "Read also:"/"Source:" lines, bylines, reference-link definitions,
/// figure and table captions.
pub(super) fn is_boilerplate(body: &str, seg: &Segment, content: &[(Span, u64)]) -> bool {
    let t = body.trim_start_matches(|c: char| "-*+>#• \t".contains(c));
    let lower = lower_head(t);
    if BOILERPLATE_PREFIXES.iter().any(|p| lower.starts_with(p)) || is_caption(&lower) {
        return true;
    }
    // A pointer: one sentence sending the reader to a link ("Details are available at [..]").
    let has_link = !link_ranges(body, 0).is_empty();
    if has_link
        && !body.trim_end().contains(". ")
        && POINTER_PHRASES.iter().any(|p| lower.contains(p))
    {
        return true;
    }
    // A byline: "By Jane Doe" with at most a few more words.
    if lower.starts_with("by ") && t.split_whitespace().count() <= 6 {
        return true;
    }
    // A reference-link definition: `[label]: https://...`.
    if t.starts_with('[') && t.contains("]:") && t.find("]:").is_some_and(|k| !t[..k].contains('('))
    {
        return true;
    }
    // Mostly link text: a link list item or a line of links.
    let link_texts = link_text_ranges(body, seg.span.start);
    let link_text_words = content
        .iter()
        .filter(|(s, _)| within(&link_texts, *s))
        .count();
    !content.is_empty()
        && link_text_words * 2
            >= content.len() + (seg.kind == SegmentKind::Paragraph) as usize * content.len()
}

/// A figure or table caption ("**Figure 2.** Latency by ...", "<b>Table 1: ...</b>"), given
/// lowercased.
fn is_caption(lower: &str) -> bool {
    let t = strip_emphasis_start(lower);
    ["figure", "fig.", "table", "image", "listing", "chart"]
        .iter()
        .any(|label| {
            t.strip_prefix(label).is_some_and(|rest| {
                let rest = strip_emphasis_start(rest.trim_start());
                let after = rest.trim_start_matches(|c: char| c.is_ascii_digit());
                // "Figure 7." or "Table 2 -" labels a caption; "Figure 7 shows" is prose.
                after.len() < rest.len()
                    && after
                        .trim_start()
                        .chars()
                        .next()
                        .is_none_or(|c| ".:-–—*_)<|".contains(c))
            })
        })
}

/// `s` without leading emphasis and bold markers (`*`, `_`, `<b>`, `<strong>`, `<em>`).
fn strip_emphasis_start(mut s: &str) -> &str {
    loop {
        let t = s.trim_start_matches(['*', '_', ' ']);
        let t = ["<b>", "<strong>", "<em>", "<i>"]
            .iter()
            .find_map(|tag| t.strip_prefix(tag))
            .unwrap_or(t);
        if t.len() == s.len() {
            return s;
        }
        s = t;
    }
}

/// A short line set entirely in bold or italics ("**Bare metal image creation:**"): a
/// heading in all but syntax.
pub(super) fn is_emphasis_heading(body: &str) -> bool {
    let t = body.trim();
    let inner = [
        ("**", "**"),
        ("__", "__"),
        ("<b>", "</b>"),
        ("<strong>", "</strong>"),
    ]
    .iter()
    .find_map(|(open, close)| t.strip_prefix(open)?.strip_suffix(close))
    .or_else(|| {
        let (open, close) = (t.chars().next()?, t.chars().last()?);
        ((open == '*' || open == '_') && open == close && t.len() > 2).then(|| &t[1..t.len() - 1])
    });
    inner.is_some_and(|inner| {
        !inner.contains(['*', '\n'])
            && !inner.contains("](")
            && inner.split_whitespace().count() <= 12
    })
}

/// Byte ranges (absolute) of Markdown link texts: between `[` and a `](` that closes it.
fn link_text_ranges(body: &str, base: usize) -> Vec<Span> {
    let mut ranges = Vec::new();
    let mut from = 0;
    while let Some(open) = body[from..].find('[').map(|i| from + i) {
        match body[open + 1..].find(']').map(|i| open + 1 + i) {
            Some(close) if body[close..].starts_with("](") => {
                ranges.push(Span::new(base + open + 1, base + close));
                from = close + 1;
            }
            Some(close) => from = close.max(open + 1),
            None => break,
        }
    }
    ranges
}

/// True when `span` lies inside one of the sorted, disjoint `ranges`.
pub(super) fn within(ranges: &[Span], span: Span) -> bool {
    let i = ranges.partition_point(|r| r.end < span.end);
    ranges
        .get(i)
        .is_some_and(|r| r.start <= span.start && span.end <= r.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_ranges_cover_targets_and_urls() {
        let body = "see [docs](https://x.org/a) and https://y.org/b now";
        let r = link_ranges(body, 0);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].slice(body), "](https://x.org/a)");
        assert_eq!(r[1].slice(body), "https://y.org/b");
        // Around multi-byte chars, and with near-misses ("hat", "w.", "<b>").
        let body = "é[ü](https://x.org/é) hat w. <b> ñ www.ü.de/ä, <https://z.org>";
        let r: Vec<&str> = link_ranges(body, 0).iter().map(|s| s.slice(body)).collect();
        assert_eq!(r, ["](https://x.org/é)", "www.ü.de/ä,", "<https://z.org>"]);
    }

    #[test]
    fn captions_are_boilerplate_and_prose_about_figures_is_not() {
        for caption in [
            "**Figure 7.** Simulated attention layer",
            "<b>Figure 1: PyTorch 1.12 improvements</b>",
            "Table 2 - Latency by batch size",
            "*Fig. 3*: the pipeline",
        ] {
            assert!(is_caption(&caption.to_lowercase()), "{caption}");
        }
        for prose in [
            "Figure out what the job needs before you start.",
            "Tables are kept apart from the text.",
            "Figure 7 shows that latency fell by half.",
        ] {
            assert!(!is_caption(&prose.to_lowercase()), "{prose}");
        }
    }

    #[test]
    fn short_emphasised_lines_are_headings() {
        for heading in [
            "**Bare Metal Image Creation:**",
            "__Can I still use the alpha version?__",
            "*Conclusion*",
            "<strong>Next steps</strong>",
        ] {
            assert!(is_emphasis_heading(heading), "{heading}");
        }
        for prose in [
            "**Note** that the flag changed.",
            "**Bold** and **bold** again",
            "*",
            "**A very long emphasised sentence that goes on and on well past what any heading would say in a post.**",
            "**See [the docs](https://x.org)**",
        ] {
            assert!(!is_emphasis_heading(prose), "{prose}");
        }
    }
}
