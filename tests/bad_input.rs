//! Placeholder: the bad input catalogue follows.
