//! Where a paragraph sits: in a section headed like a summary or like new business (next
//! steps, thanks), after a summary cue (or in the list such a lead-in opens), opening a
//! topical section. These are features of the restatement model, not gates: a recap without
//! a cue is still judged, and a heading alone decides nothing.

use super::boilerplate::lower_head;
use super::{Role, Unit};
use crate::segment::SegmentKind;

/// Headings of the sections where recaps live.
const RECAP_HEADINGS: &[&str] = &[
    "summary",
    "conclusion",
    "concluding",
    "wrapping up",
    "wrap up",
    "wrap-up",
    "recap",
    "tl;dr",
    "tldr",
    "takeaway",
    "key points",
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

/// Headings of sections that bring new business rather than a summary: what comes next,
/// how to take part, thanks, further reading.
const ONWARD_HEADINGS: &[&str] = &[
    "next",
    "future",
    "roadmap",
    "coming",
    "get involved",
    "getting involved",
    "how to get",
    "how can i",
    "how do i",
    "learn more",
    "further",
    "more information",
    "resources",
    "references",
    "acknowledg",
    "thank",
    "credits",
    "contribut",
    "feedback",
    "try it",
    "getting started",
    "call to action",
    "join",
    "contact",
    "faq",
    "questions",
    "appendix",
    "links",
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
    "reiterating",
    "to reiterate",
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
    "as mentioned",
    "as described",
    "as discussed",
    "as noted",
    "as shown",
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
    "key points",
    "highlights",
    "zusammenfass",
];

/// Where a unit sits, as far as headings and cues tell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Place {
    /// Under a heading that names a summary ("Conclusion", "TL;DR").
    pub recap_section: bool,
    /// Under a heading that announces new business ("What's next", "Acknowledgements").
    pub onward_section: bool,
    /// Opens with a summary cue ("In short", "To sum up").
    pub cue: bool,
    /// A list item after a lead-in that announces a recap ("To summarize:").
    pub cued_list: bool,
    /// The first prose paragraph under a heading that names its own topic ("## Release
    /// timing"): that section's content, whatever it repeats.
    pub opens_section: bool,
    /// In the text's last section (or the text has no sections).
    pub last_section: bool,
    /// Number of headings before it: units with the same number share a section.
    pub section: usize,
}

/// The [`Place`] of every unit.
pub(super) fn places(text: &str, units: &[Unit]) -> Vec<Place> {
    // `lower` is the unit's lowercased head; list markers and emphasis before a cue go.
    let starts_with_cue = |lower: &str| {
        let t = lower.trim_start_matches(|c: char| "-*+>#•0123456789.) \t*_".contains(c));
        RECAP_OPENERS.iter().any(|cue| t.starts_with(cue))
    };
    let last_heading = units
        .iter()
        .rposition(|u| u.seg.kind == SegmentKind::Heading);
    let mut out = Vec::with_capacity(units.len());
    let (mut recap_section, mut onward_section) = (false, false);
    let mut in_cued_list = false;
    let mut after_topic_heading = false;
    let mut section = 0;
    for (k, u) in units.iter().enumerate() {
        let lower = lower_head(u.seg.span.slice(text));
        if u.seg.kind == SegmentKind::Heading {
            recap_section = RECAP_HEADINGS.iter().any(|h| lower.contains(h));
            onward_section = !recap_section && ONWARD_HEADINGS.iter().any(|h| lower.contains(h));
            after_topic_heading = !recap_section;
            in_cued_list = false;
            section += 1;
            out.push(Place {
                section,
                ..Place::default()
            });
            continue;
        }
        let mut place = Place {
            recap_section,
            onward_section,
            last_section: last_heading.is_none_or(|h| k > h),
            section,
            ..Place::default()
        };
        if u.role == Role::Prose {
            place.opens_section = after_topic_heading;
            after_topic_heading = false;
        }
        place.cue = starts_with_cue(&lower);
        if u.seg.kind != SegmentKind::ListItem {
            in_cued_list =
                u.lead_in && (place.cue || RECAP_LEAD_INS.iter().any(|c| lower.contains(c)));
        }
        place.cued_list = u.seg.kind == SegmentKind::ListItem && in_cued_list;
        out.push(place);
    }
    out
}
