//! Where recaps sit: summary sections, paragraphs that open with a summary cue (and the
//! lists they introduce), and the closing paragraphs of a text.

use super::boilerplate::lower_head;
use super::{Role, Unit};
use crate::segment::SegmentKind;

/// Headings of the sections where recaps live.
const RECAP_HEADINGS: &[&str] = &[
    "summary",
    "conclusion",
    "wrapping up",
    "wrap up",
    "wrap-up",
    "recap",
    "tl;dr",
    "tldr",
    "takeaway",
    "in a nutshell",
    "closing thoughts",
    "final thoughts",
    "in closing",
    "to sum up",
    "lessons learned",
    "bottom line",
    "zusammenfassung",
    "fazit",
    "résumé",
    "resumen",
];

/// Openers of paragraphs (or of the lead-in before a list) that announce a recap.
const RECAP_OPENERS: &[&str] = &[
    "in summary",
    "to summarize",
    "to summarise",
    "summing up",
    "to sum up",
    "in sum,",
    "in short",
    "in brief",
    "in conclusion",
    "to conclude",
    "overall,",
    "all in all",
    "in a nutshell",
    "to recap",
    "recap:",
    "in other words",
    "put simply",
    "simply put",
    "tl;dr",
    "tldr",
    "the bottom line",
    "long story short",
    "to wrap up",
    "wrapping up",
    "key takeaways",
    "we then explained",
    "as we have seen",
    "as we've seen",
    "zusammenfassend",
    "insgesamt",
    "kurz gesagt",
    "en résumé",
    "en resumen",
];

/// Phrases that make a lead-in ("..., the following:") announce a recap list.
const RECAP_LEAD_INS: &[&str] = &[
    "summary",
    "summarize",
    "summarise",
    "sum up",
    "recap",
    "we have introduced",
    "we introduced",
    "takeaway",
    "main benefits",
    "in short",
    "in conclusion",
    "to conclude",
    "zusammenfass",
];

/// Number of closing prose paragraphs that count as recap context without any cue.
const CLOSING_PARAGRAPHS: usize = 2;
/// Prose paragraphs a text needs before its closing ones count as recap context.
const MIN_PROSE_FOR_CLOSING: usize = 8;

/// Marks the units that sit where recaps sit: in a section whose heading names a summary, in a
/// paragraph that opens with a summary cue (and the list it introduces), or among the last
/// prose paragraphs of the text (unless it opens a topical section).
pub(super) fn mark_recap_context(text: &str, units: &mut [Unit]) {
    let starts_with_cue = |s: &str| {
        let t = lower_head(s.trim_start_matches(|c: char| "-*+>#•0123456789.) \t".contains(c)));
        let t = t.trim_start_matches(['*', '_']);
        RECAP_OPENERS.iter().any(|cue| t.starts_with(cue))
    };
    let mut in_section = false;
    let mut in_cued_list = false;
    // The first prose paragraph under a heading that names its own topic ("## Release
    // timing") is that section's content, not a closing, even at the end of the text.
    let mut opens_topic = vec![false; units.len()];
    let mut after_topic_heading = false;
    for (k, u) in units.iter_mut().enumerate() {
        let body = u.seg.span.slice(text);
        if u.seg.kind == SegmentKind::Heading {
            let lower = lower_head(body);
            in_section = RECAP_HEADINGS.iter().any(|h| lower.contains(h));
            after_topic_heading = !in_section;
            in_cued_list = false;
            continue;
        }
        if u.role == Role::Prose {
            opens_topic[k] = after_topic_heading;
            after_topic_heading = false;
        }
        let cued = starts_with_cue(body);
        if u.seg.kind != SegmentKind::ListItem {
            let lower = lower_head(body);
            in_cued_list = u.lead_in && (cued || RECAP_LEAD_INS.iter().any(|c| lower.contains(c)));
        }
        u.recap_context =
            in_section || cued || (u.seg.kind == SegmentKind::ListItem && in_cued_list);
    }
    // A text needs some length before its closing paragraphs can sum it up.
    let prose = units.iter().filter(|u| u.role == Role::Prose).count();
    if prose >= MIN_PROSE_FOR_CLOSING {
        let closing = units
            .iter_mut()
            .zip(opens_topic)
            .rev()
            .filter(|(u, _)| u.role == Role::Prose)
            .take(CLOSING_PARAGRAPHS);
        for (u, opens_topic) in closing {
            u.recap_context |= !opens_topic;
        }
    }
}
