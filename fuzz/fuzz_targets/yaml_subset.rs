//! The fast YAML reader against serde-saphyr: when it accepts a text, serde-saphyr must
//! accept it too and give the same values (otherwise it must return `None`, i.e. fall back).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    portalgen::fuzzing::yaml_subset(data);
});
