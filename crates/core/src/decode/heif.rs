//! AVIF and HEIC through libheif, the library behind most HEIF readers (GIMP, ImageMagick,
//! GNOME). One library covers both formats: it decodes HEVC with libde265 and AV1 with dav1d, at 8,
//! 10 and 12 bits, with alpha, and applies the container's rotation and mirroring (`irot`,
//! `imir`), which is how phones store orientation.
//!
//! It is opened at run time (Debian's `libheif1`, as ONNX Runtime is loaded at run time) so that
//! building Cutout needs no C library, and a machine without it still serves every other format
//! and says clearly what is missing. The Rust decoders for AV1 and HEVC are either unmaintained
//! or need a newer system dav1d than Debian 12 ships.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::OnceLock;

use image::RgbaImage;

use crate::DecodeError;

#[repr(C)]
struct HeifError {
    code: c_int,
    subcode: c_int,
    message: *const c_char,
}

type Ptr = *mut c_void;
const COLORSPACE_RGB: c_int = 1;
const CHROMA_INTERLEAVED_RGBA: c_int = 11;
const CHANNEL_INTERLEAVED: c_int = 10;

/// The libheif entry points used here (C API of libheif 1.x, stable since 1.0).
struct Api {
    _lib: libloading::Library,
    context_alloc: unsafe extern "C" fn() -> Ptr,
    context_free: unsafe extern "C" fn(Ptr),
    read_from_memory: unsafe extern "C" fn(Ptr, *const c_void, usize, *const c_void) -> HeifError,
    set_max_size: unsafe extern "C" fn(Ptr, c_int),
    primary_handle: unsafe extern "C" fn(Ptr, *mut Ptr) -> HeifError,
    handle_width: unsafe extern "C" fn(Ptr) -> c_int,
    handle_height: unsafe extern "C" fn(Ptr) -> c_int,
    handle_has_alpha: unsafe extern "C" fn(Ptr) -> c_int,
    handle_release: unsafe extern "C" fn(Ptr),
    decode_image: unsafe extern "C" fn(Ptr, *mut Ptr, c_int, c_int, *const c_void) -> HeifError,
    image_width: unsafe extern "C" fn(Ptr, c_int) -> c_int,
    image_height: unsafe extern "C" fn(Ptr, c_int) -> c_int,
    plane: unsafe extern "C" fn(Ptr, c_int, *mut c_int) -> *const u8,
    image_release: unsafe extern "C" fn(Ptr),
}

const LIBRARY_NAMES: [&str; 2] = ["libheif.so.1", "libheif.so"];

fn api() -> Result<&'static Api, DecodeError> {
    static API: OnceLock<Result<Api, String>> = OnceLock::new();
    API.get_or_init(load).as_ref().map_err(|why| {
        DecodeError::UnsupportedFormat(format!(
            " (AVIF and HEIC need libheif, which this server cannot load: {why}; install the libheif1 package)"
        ))
    })
}

/// Whether libheif can be loaded, i.e. AVIF and HEIC inputs are decoded here (else they are
/// refused with a message naming the package to install).
pub fn available() -> bool {
    api().is_ok()
}

fn load() -> Result<Api, String> {
    // SAFETY: libheif's initialisers only register its built-in codecs.
    let lib = LIBRARY_NAMES
        .iter()
        .find_map(|name| unsafe { libloading::Library::new(name) }.ok())
        .ok_or("libheif.so.1 not found")?;
    // SAFETY: each symbol is looked up with the signature of libheif's C API (heif.h).
    unsafe {
        macro_rules! sym {
            ($name:literal) => {
                *lib.get(concat!($name, "\0").as_bytes())
                    .map_err(|e| format!("{}: {e}", $name))?
            };
        }
        if let Ok(init) =
            lib.get::<unsafe extern "C" fn(*const c_void) -> HeifError>(b"heif_init\0")
        {
            init(std::ptr::null());
        }
        Ok(Api {
            context_alloc: sym!("heif_context_alloc"),
            context_free: sym!("heif_context_free"),
            read_from_memory: sym!("heif_context_read_from_memory_without_copy"),
            set_max_size: sym!("heif_context_set_maximum_image_size_limit"),
            primary_handle: sym!("heif_context_get_primary_image_handle"),
            handle_width: sym!("heif_image_handle_get_width"),
            handle_height: sym!("heif_image_handle_get_height"),
            handle_has_alpha: sym!("heif_image_handle_has_alpha_channel"),
            handle_release: sym!("heif_image_handle_release"),
            decode_image: sym!("heif_decode_image"),
            image_width: sym!("heif_image_get_width"),
            image_height: sym!("heif_image_get_height"),
            plane: sym!("heif_image_get_plane_readonly"),
            image_release: sym!("heif_image_release"),
            _lib: lib,
        })
    }
}

fn check(e: HeifError) -> Result<(), DecodeError> {
    if e.code == 0 {
        return Ok(());
    }
    let msg = if e.message.is_null() {
        String::new()
    } else {
        // SAFETY: libheif's messages are NUL-terminated and live at least as long as the context.
        unsafe { CStr::from_ptr(e.message) }
            .to_string_lossy()
            .into_owned()
    };
    Err(DecodeError::Corrupt(format!(
        "HEIF: {msg} (error {}.{})",
        e.code, e.subcode
    )))
}

/// The parsed container and its primary image: freed on drop.
pub(super) struct Primary<'a> {
    api: &'static Api,
    ctx: Ptr,
    handle: Ptr,
    _bytes: std::marker::PhantomData<&'a [u8]>,
}

impl Drop for Primary<'_> {
    fn drop(&mut self) {
        // SAFETY: both were allocated by libheif and are released once, handle first.
        unsafe {
            if !self.handle.is_null() {
                (self.api.handle_release)(self.handle);
            }
            (self.api.context_free)(self.ctx);
        }
    }
}

/// Parses the container (no pixel is decoded). `bytes` must outlive the result: libheif reads it
/// in place. The caller checks the dimensions against its limits before [`Primary::decode`].
pub(super) fn open(bytes: &[u8]) -> Result<Primary<'_>, DecodeError> {
    let api = api()?;
    // SAFETY: the context is freed by `Primary`'s drop; `bytes` is borrowed for its lifetime.
    unsafe {
        let mut p = Primary {
            api,
            ctx: (api.context_alloc)(),
            handle: std::ptr::null_mut(),
            _bytes: std::marker::PhantomData,
        };
        // libheif's own size guard (32768² by default) would answer a huge declared size with a
        // parse error; lifted so that Cutout's own check refuses it with its limit named.
        (api.set_max_size)(p.ctx, c_int::MAX);
        check((api.read_from_memory)(
            p.ctx,
            bytes.as_ptr().cast(),
            bytes.len(),
            std::ptr::null(),
        ))?;
        check((api.primary_handle)(p.ctx, &mut p.handle))?;
        Ok(p)
    }
}

impl Primary<'_> {
    /// Displayed size (after rotation).
    pub fn dimensions(&self) -> (u32, u32) {
        // SAFETY: `handle` is a live image handle.
        let (w, h) = unsafe {
            (
                (self.api.handle_width)(self.handle),
                (self.api.handle_height)(self.handle),
            )
        };
        (w.max(0) as u32, h.max(0) as u32)
    }

    pub fn has_alpha(&self) -> bool {
        // SAFETY: as above.
        unsafe { (self.api.handle_has_alpha)(self.handle) != 0 }
    }

    /// Decodes to 8-bit RGBA with the rotation applied; 10- and 12-bit images are scaled down.
    pub fn decode(&self) -> Result<RgbaImage, DecodeError> {
        let api = self.api;
        let mut img: Ptr = std::ptr::null_mut();
        // SAFETY: the image is released below on every path; the plane pointer is read only while
        // the image lives, within `stride * height` bytes.
        unsafe {
            check((api.decode_image)(
                self.handle,
                &mut img,
                COLORSPACE_RGB,
                CHROMA_INTERLEAVED_RGBA,
                std::ptr::null(),
            ))?;
            let out = copy_plane(api, img);
            (api.image_release)(img);
            out
        }
    }
}

/// # Safety
/// `img` must be a live libheif image decoded as interleaved RGBA.
unsafe fn copy_plane(api: &Api, img: Ptr) -> Result<RgbaImage, DecodeError> {
    let w = (api.image_width)(img, CHANNEL_INTERLEAVED);
    let h = (api.image_height)(img, CHANNEL_INTERLEAVED);
    let mut stride: c_int = 0;
    let data = (api.plane)(img, CHANNEL_INTERLEAVED, &mut stride);
    let row = w as usize * 4;
    if data.is_null() || w <= 0 || h <= 0 || (stride as usize) < row {
        return Err(DecodeError::Corrupt(
            "HEIF: the decoder returned no RGBA image".into(),
        ));
    }
    let mut out = Vec::with_capacity(row * h as usize);
    for y in 0..h as usize {
        out.extend_from_slice(std::slice::from_raw_parts(
            data.add(y * stride as usize),
            row,
        ));
    }
    Ok(RgbaImage::from_raw(w as u32, h as u32, out).expect("4 bytes a pixel"))
}
