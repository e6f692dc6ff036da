//! Reference tables for recognising identifiers nobody configured.

/// Mobile country codes assigned in ITU-T E.212 (geographic ones; test and
/// international codes such as 001 and 901 left out so they do not widen the net).
const MCC: &[u16] = &[
    202, 204, 206, 208, 212, 213, 214, 216, 218, 219, 220, 221, 222, 226, 228, 230, 231, 232, 234,
    235, 238, 240, 242, 244, 246, 247, 248, 250, 255, 257, 259, 260, 262, 266, 268, 270, 272, 274,
    276, 278, 280, 282, 283, 284, 286, 288, 289, 290, 292, 293, 294, 295, 297, 302, 308, 310, 311,
    312, 313, 314, 315, 316, 330, 334, 338, 340, 342, 344, 346, 348, 350, 352, 354, 356, 358, 360,
    362, 363, 364, 365, 366, 368, 370, 372, 374, 376, 400, 401, 402, 404, 405, 406, 410, 412, 413,
    414, 415, 416, 417, 418, 419, 420, 421, 422, 424, 425, 426, 427, 428, 429, 430, 431, 432, 434,
    436, 437, 438, 440, 441, 450, 452, 454, 455, 456, 457, 460, 461, 466, 467, 470, 472, 502, 505,
    510, 514, 515, 520, 525, 528, 530, 536, 537, 539, 540, 541, 542, 543, 544, 545, 546, 547, 548,
    549, 550, 551, 552, 553, 554, 555, 602, 603, 604, 605, 606, 607, 608, 609, 610, 611, 612, 613,
    614, 615, 616, 617, 618, 619, 620, 621, 622, 623, 624, 625, 626, 627, 628, 629, 630, 631, 632,
    633, 634, 635, 636, 637, 638, 639, 640, 641, 642, 643, 645, 646, 647, 648, 649, 650, 651, 652,
    653, 654, 655, 657, 658, 659, 702, 704, 706, 708, 710, 712, 714, 716, 722, 724, 730, 732, 734,
    736, 738, 740, 742, 744, 746, 748, 750,
];

/// GSMA reporting body identifiers: the first two digits of every allocated TAC.
const IMEI_RBI: &[&[u8; 2]] = &[
    b"01", b"10", b"30", b"33", b"35", b"44", b"45", b"49", b"50", b"51", b"52", b"53", b"54",
    b"86", b"91", b"98", b"99",
];

/// Whether the first three ASCII digits are an assigned MCC.
pub fn is_mcc(digits: &[u8]) -> bool {
    let Some(d) = digits.get(..3) else {
        return false;
    };
    if !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let v = d.iter().fold(0u16, |a, &c| a * 10 + u16::from(c - b'0'));
    MCC.binary_search(&v).is_ok()
}

/// Whether a 15-digit run starts with an allocated reporting body identifier.
pub fn plausible_tac(digits: &[u8]) -> bool {
    digits
        .get(..2)
        .is_some_and(|p| IMEI_RBI.iter().any(|r| r[..] == *p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcc_table_is_sorted_for_binary_search() {
        assert!(MCC.windows(2).all(|w| w[0] < w[1]));
        assert!(is_mcc(b"460011234567890"));
        assert!(!is_mcc(b"999"));
    }
}
