//! Input formats and their names: apart from decoding so that error messages can list them
//! without the error module depending on the decoders.

use image::ImageFormat;

/// Every format Cutout decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputFormat {
    Jpeg,
    Png,
    Webp,
    Tiff,
    Gif,
    Bmp,
    Avif,
    /// HEIC/HEIF, as phones save photos.
    Heic,
    /// Photoshop: the flattened composite.
    Psd,
    Svg,
}

impl InputFormat {
    /// All of them, in the order error messages and docs list them.
    pub const ALL: [InputFormat; 10] = [
        Self::Jpeg,
        Self::Png,
        Self::Webp,
        Self::Avif,
        Self::Heic,
        Self::Tiff,
        Self::Gif,
        Self::Bmp,
        Self::Psd,
        Self::Svg,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Webp => "WebP",
            Self::Tiff => "TIFF",
            Self::Gif => "GIF",
            Self::Bmp => "BMP",
            Self::Avif => "AVIF",
            Self::Heic => "HEIC",
            Self::Psd => "PSD",
            Self::Svg => "SVG",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Tiff => "image/tiff",
            Self::Gif => "image/gif",
            Self::Bmp => "image/bmp",
            Self::Avif => "image/avif",
            Self::Heic => "image/heic",
            Self::Psd => "image/vnd.adobe.photoshop",
            Self::Svg => "image/svg+xml",
        }
    }

    /// The formats the `image` crate decodes for us; the others have their own decoder module.
    pub(crate) fn image_format(self) -> Option<ImageFormat> {
        Some(match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::Webp => ImageFormat::WebP,
            Self::Tiff => ImageFormat::Tiff,
            Self::Gif => ImageFormat::Gif,
            Self::Bmp => ImageFormat::Bmp,
            Self::Avif | Self::Heic | Self::Psd | Self::Svg => return None,
        })
    }
}

/// "JPEG, PNG, …, SVG": for error messages.
pub fn supported_list() -> String {
    InputFormat::ALL.map(InputFormat::name).join(", ")
}
