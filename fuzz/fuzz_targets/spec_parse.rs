//! The spec parser on arbitrary bytes: no panic, and every error names a position and a
//! field path.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    portalgen::fuzzing::spec_parse(data);
});
