//! QQTEA: 16-round TEA in the "OICQ" chaining mode used by the ptlogin password field.
//!
//! Layout of a plaintext buffer before chaining (§4.4 of the protocol specification): one
//! header byte `(random & 0xF8) | pad`, `pad + 2` random fill bytes, the message, seven zero
//! bytes; `pad` makes the total a multiple of 8.

/// TEA's key schedule constant.
const DELTA: u32 = 0x9E37_79B9;

/// QQTEA runs half of TEA's usual 32 rounds.
const ROUNDS: u32 = 16;

/// The header byte, the two fill bytes always present, and the zero tail.
const OVERHEAD: usize = 1 + 2 + ZERO_TAIL;

/// Length of the zero tail that authenticates (weakly) the decryption.
const ZERO_TAIL: usize = 7;

/// Why a QQTEA ciphertext could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TeaError {
    /// The ciphertext is not a whole number of 8-byte blocks, or shorter than two blocks.
    #[error("ciphertext length {0} is not a multiple of 8 of at least 16")]
    BadLength(usize),
    /// The header's pad count leaves no room for the fill bytes and the zero tail.
    #[error("padding header does not fit the ciphertext")]
    BadPadding,
    /// The last seven plaintext bytes are not zero: wrong key or damaged ciphertext.
    #[error("zero tail check failed")]
    BadZeroTail,
}

/// Encrypts `plaintext` with `key`, drawing the header and fill bytes from `random`.
///
/// `random` is called once for the header byte (only its top five bits are kept) and then
/// once per fill byte, so a fixed source reproduces known ciphertexts.
pub fn encrypt(key: &[u8; 16], plaintext: &[u8], mut random: impl FnMut() -> u8) -> Vec<u8> {
    let pad = (8 - (plaintext.len() + OVERHEAD) % 8) % 8;
    let mut buffer = Vec::with_capacity(plaintext.len() + OVERHEAD + pad);
    // `pad` < 8, so it fits the low three bits the header reserves for it.
    buffer.push((random() & 0xF8) | pad as u8);
    buffer.extend((0..pad + 2).map(|_| random()));
    buffer.extend_from_slice(plaintext);
    buffer.extend_from_slice(&[0; ZERO_TAIL]);

    let key = key_words(key);
    let mut previous_cipher = [0u8; 8];
    let mut previous_mixed = [0u8; 8];
    let mut output = Vec::with_capacity(buffer.len());
    for block in buffer.chunks_exact(8) {
        let mixed = xor(to_block(block), previous_cipher);
        let cipher = xor(encipher(mixed, &key), previous_mixed);
        output.extend_from_slice(&cipher);
        previous_cipher = cipher;
        previous_mixed = mixed;
    }

    output
}

/// Decrypts a QQTEA ciphertext and returns the message without header, fill and zero tail.
///
/// Any input is accepted without panicking; malformed input gives a [`TeaError`].
pub fn decrypt(key: &[u8; 16], ciphertext: &[u8]) -> Result<Vec<u8>, TeaError> {
    if !ciphertext.len().is_multiple_of(8) || ciphertext.len() < 16 {
        return Err(TeaError::BadLength(ciphertext.len()));
    }

    let key = key_words(key);
    let mut previous_cipher = [0u8; 8];
    let mut previous_mixed = [0u8; 8];
    let mut buffer = Vec::with_capacity(ciphertext.len());
    for block in ciphertext.chunks_exact(8) {
        let cipher = to_block(block);
        let mixed = decipher(xor(cipher, previous_mixed), &key);
        buffer.extend_from_slice(&xor(mixed, previous_cipher));
        previous_cipher = cipher;
        previous_mixed = mixed;
    }

    let start = 1 + usize::from(buffer[0] & 7) + 2;
    let end = buffer.len() - ZERO_TAIL;
    if start > end {
        return Err(TeaError::BadPadding);
    }
    if buffer[end..].iter().any(|&byte| byte != 0) {
        return Err(TeaError::BadZeroTail);
    }

    Ok(buffer[start..end].to_vec())
}

/// The key as four big-endian words `k0..k3`.
fn key_words(key: &[u8; 16]) -> [u32; 4] {
    let mut words = [0u32; 4];
    for (word, chunk) in words.iter_mut().zip(key.chunks_exact(4)) {
        *word = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    words
}

/// Copies an 8-byte chunk; callers only pass `chunks_exact(8)` items.
fn to_block(chunk: &[u8]) -> [u8; 8] {
    let mut block = [0u8; 8];
    block.copy_from_slice(chunk);
    block
}

fn xor(a: [u8; 8], b: [u8; 8]) -> [u8; 8] {
    let mut out = a;
    for (byte, other) in out.iter_mut().zip(b) {
        *byte ^= other;
    }
    out
}

fn split(block: [u8; 8]) -> (u32, u32) {
    let y = u32::from_be_bytes([block[0], block[1], block[2], block[3]]);
    let z = u32::from_be_bytes([block[4], block[5], block[6], block[7]]);
    (y, z)
}

fn join(y: u32, z: u32) -> [u8; 8] {
    let mut block = [0u8; 8];
    block[..4].copy_from_slice(&y.to_be_bytes());
    block[4..].copy_from_slice(&z.to_be_bytes());
    block
}

/// One TEA round function half: `((v << 4) + a) ^ (v + sum) ^ ((v >> 5) + b)`.
fn feistel(v: u32, sum: u32, a: u32, b: u32) -> u32 {
    (v << 4).wrapping_add(a) ^ v.wrapping_add(sum) ^ (v >> 5).wrapping_add(b)
}

fn encipher(block: [u8; 8], k: &[u32; 4]) -> [u8; 8] {
    let (mut y, mut z) = split(block);
    let mut sum = 0u32;
    for _ in 0..ROUNDS {
        sum = sum.wrapping_add(DELTA);
        y = y.wrapping_add(feistel(z, sum, k[0], k[1]));
        z = z.wrapping_add(feistel(y, sum, k[2], k[3]));
    }
    join(y, z)
}

fn decipher(block: [u8; 8], k: &[u32; 4]) -> [u8; 8] {
    let (mut y, mut z) = split(block);
    let mut sum = DELTA.wrapping_mul(ROUNDS);
    for _ in 0..ROUNDS {
        z = z.wrapping_sub(feistel(y, sum, k[2], k[3]));
        y = y.wrapping_sub(feistel(z, sum, k[0], k[1]));
        sum = sum.wrapping_sub(DELTA);
    }
    join(y, z)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const KEY: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    /// A source giving `header` first and `0xAA` for every fill byte, as in §11.3.
    fn header_then_aa(header: u8) -> impl FnMut() -> u8 {
        let mut first = Some(header);
        move || first.take().unwrap_or(0xAA)
    }

    #[test]
    fn encrypt_matches_spec_vector_with_header_f8() {
        let random = header_then_aa(0xF8);

        let cipher = encrypt(&KEY, b"hello smartqq", random);

        assert_eq!(
            hex::encode(cipher),
            "804d65e8aee910677b6b816d862b5b5e3a5e4835b9681a8e"
        );
    }

    #[test]
    fn encrypt_matches_spec_vector_with_header_a8() {
        let random = header_then_aa(0xA8);

        let cipher = encrypt(&KEY, b"hello smartqq", random);

        assert_eq!(
            hex::encode(cipher),
            "64dd6bf8c92736d45b2817b672b46fd0b16a3344225a41f0"
        );
    }

    #[test]
    fn decrypt_recovers_spec_vector_plaintext() {
        let cipher =
            hex::decode("804d65e8aee910677b6b816d862b5b5e3a5e4835b9681a8e").expect("vector is hex");

        let plain = decrypt(&KEY, &cipher);

        assert_eq!(plain.as_deref(), Ok(&b"hello smartqq"[..]));
    }

    #[test]
    fn decrypt_rejects_lengths_that_are_not_whole_blocks() {
        let lengths = [0, 8, 15, 17, 23];

        let results: Vec<_> = lengths
            .iter()
            .map(|&n| decrypt(&KEY, &vec![0; n]))
            .collect();

        for (n, result) in lengths.iter().zip(results) {
            assert_eq!(result, Err(TeaError::BadLength(*n)));
        }
    }

    #[test]
    fn decrypt_with_wrong_key_fails_the_zero_tail() {
        let cipher = encrypt(&KEY, b"hello smartqq", header_then_aa(0xF8));
        let mut wrong_key = KEY;
        wrong_key[0] ^= 1;

        let result = decrypt(&wrong_key, &cipher);

        assert!(result.is_err());
    }

    #[test]
    fn decrypt_rejects_a_header_whose_padding_overruns() {
        // A two-block buffer whose header claims 7 pad bytes: 1 + 7 + 2 > 16 - 7.
        let buffer = [0xFFu8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let key = key_words(&KEY);
        let first = encipher(to_block(&buffer[..8]), &key);
        let mixed_second = xor(to_block(&buffer[8..]), first);
        let second = xor(encipher(mixed_second, &key), to_block(&buffer[..8]));
        let cipher = [first, second].concat();

        let result = decrypt(&KEY, &cipher);

        assert_eq!(result, Err(TeaError::BadPadding));
    }

    proptest! {
        #[test]
        fn encrypt_then_decrypt_round_trips(
            key in any::<[u8; 16]>(),
            plain in proptest::collection::vec(any::<u8>(), 0..200),
            noise in proptest::collection::vec(any::<u8>(), 1..16),
        ) {
            let mut source = noise.into_iter().cycle();
            let cipher = encrypt(&key, &plain, || source.next().unwrap_or(0));

            let decrypted = decrypt(&key, &cipher);

            prop_assert!(cipher.len().is_multiple_of(8));
            prop_assert_eq!(decrypted, Ok(plain));
        }

        #[test]
        fn decrypt_never_panics(
            key in any::<[u8; 16]>(),
            cipher in proptest::collection::vec(any::<u8>(), 0..100),
        ) {
            let _ = decrypt(&key, &cipher);
        }
    }
}
