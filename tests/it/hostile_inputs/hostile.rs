//! The hostile strings: control characters, bidi and invisible characters, noncharacters and
//! oversized values, each made from an input's valid default.

/// A hostile value made from the input's valid default (`carrier`).
pub(super) struct Hostile {
    pub(super) name: &'static str,
    pub(super) make: fn(&str) -> String,
}

fn inserted(carrier: &str, bad: &str) -> String {
    let middle = carrier
        .char_indices()
        .nth(carrier.chars().count() / 2)
        .map_or(carrier.len(), |(i, _)| i);
    format!("{}{bad}{}", &carrier[..middle], &carrier[middle..])
}

pub(super) const HOSTILE: &[Hostile] = &[
    Hostile {
        name: "NUL",
        make: |c| inserted(c, "\u{0}"),
    },
    Hostile {
        name: "SOH",
        make: |c| inserted(c, "\u{1}"),
    },
    Hostile {
        name: "BEL",
        make: |c| inserted(c, "\u{7}"),
    },
    Hostile {
        name: "ESC sequence",
        make: |c| inserted(c, "\u{1b}[2J"),
    },
    Hostile {
        name: "unit separator",
        make: |c| inserted(c, "\u{1f}"),
    },
    Hostile {
        name: "DEL",
        make: |c| inserted(c, "\u{7f}"),
    },
    Hostile {
        name: "C1 NEL",
        make: |c| inserted(c, "\u{85}"),
    },
    Hostile {
        name: "C1 CSI",
        make: |c| inserted(c, "\u{9b}"),
    },
    Hostile {
        name: "bidi override",
        make: |c| inserted(c, "\u{202e}"),
    },
    Hostile {
        name: "bidi isolate",
        make: |c| inserted(c, "\u{2066}"),
    },
    Hostile {
        name: "zero-width space",
        make: |c| inserted(c, "\u{200b}"),
    },
    Hostile {
        name: "tag character",
        make: |c| inserted(c, "\u{e0041}"),
    },
    Hostile {
        name: "BOM",
        make: |c| format!("\u{feff}{c}"),
    },
    Hostile {
        name: "noncharacter",
        make: |c| inserted(c, "\u{ffff}"),
    },
    Hostile {
        name: "line separator",
        make: |c| inserted(c, "\u{2028}"),
    },
    Hostile {
        name: "lone combining marks",
        make: |c| format!("\u{301}\u{302}{c}"),
    },
    Hostile {
        name: "10 000 characters",
        make: |_| "x".repeat(10_000),
    },
    Hostile {
        name: "1 MB",
        make: |_| "a".repeat(1 << 20),
    },
];
