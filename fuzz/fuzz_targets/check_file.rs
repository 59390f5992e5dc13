//! `validate::check_file` on arbitrary rendered text: no panic, bounded messages.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    portalgen::fuzzing::check_file(data);
});
