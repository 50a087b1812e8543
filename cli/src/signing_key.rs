//! `flowgate signing-key`: a value for the `signing_key` variable in the
//! bound form (seed, public key, tag; `flowgate::token::key` and
//! docs/decisions.md), made locally. The format lives once, in the core; this
//! command only supplies the randomness and the terminal.

use std::io::{Read as _, Write as _};

use flowgate::token::SIGNING_KEY_VARIABLE;
use flowgate::token::key::{SEED_LEN, bound_value, bound_value_of};
use zeroize::Zeroizing;

use crate::Failure;

/// The longest standard input `--from-seed` reads: a bound value in hex is
/// 192 characters; anything far longer is not a key.
const MAX_INPUT: u64 = 4096;

/// Prints a new bound value, or with `from_seed` the bound form of the value
/// on standard input. Only the value goes to standard output.
pub fn print(from_seed: bool) -> Result<(), Failure> {
    let value = if from_seed {
        let mut text = Zeroizing::new(String::new());
        std::io::stdin()
            .take(MAX_INPUT)
            .read_to_string(&mut text)
            .map_err(|e| {
                Failure::Usage(format!("cannot read the seed from standard input: {e}"))
            })?;
        // The error names the variable and says what is expected, never the value.
        bound_value_of(SIGNING_KEY_VARIABLE, &text)
            .map_err(|e| Failure::Usage(format!("standard input: {e}")))?
    } else {
        let mut seed = Zeroizing::new([0u8; SEED_LEN]);
        getrandom::fill(seed.as_mut_slice()).map_err(|e| {
            Failure::Usage(format!("the operating system's random source failed: {e}"))
        })?;
        bound_value(&seed)
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", value.as_str())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Usage(format!("cannot write the key: {e}")))
}
