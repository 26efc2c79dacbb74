//! Output formats and the ffmpeg arguments that make each one. Alpha travels where the format
//! has it (VP9 yuva420p, ProRes 4444, GIF transparency, animated WebP); mp4 is flattened on the
//! background colour. Audio is copied into every container that can hold it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoFormat {
    Webm,
    Mov,
    Mp4,
    Gif,
    Webp,
    PngSequence,
}

impl VideoFormat {
    pub const ALL: [Self; 6] = [
        Self::Webm,
        Self::Mov,
        Self::Mp4,
        Self::Gif,
        Self::Webp,
        Self::PngSequence,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webm => "webm",
            Self::Mov => "mov",
            Self::Mp4 => "mp4",
            Self::Gif => "gif",
            Self::Webp => "webp",
            Self::PngSequence => "png_sequence",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::PngSequence => "zip",
            other => other.as_str(),
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Webm => "video/webm",
            Self::Mov => "video/quicktime",
            Self::Mp4 => "video/mp4",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::PngSequence => "application/zip",
        }
    }

    /// Whether the output keeps transparency (else it is flattened on the background).
    pub fn has_alpha(self) -> bool {
        !matches!(self, Self::Mp4)
    }

    /// Whether the container carries the source's audio.
    pub fn has_audio(self) -> bool {
        matches!(self, Self::Webm | Self::Mov | Self::Mp4)
    }

    /// Video codec arguments for ffmpeg (not used for `png_sequence`, written directly).
    pub fn video_args(self) -> &'static [&'static str] {
        match self {
            // auto-alt-ref must be off for VP9 to keep the alpha plane.
            Self::Webm => &[
                "-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p", "-auto-alt-ref", "0", "-b:v", "0",
                "-crf", "32", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1",
            ],
            Self::Mov => &[
                "-c:v", "prores_ks", "-profile:v", "4444", "-pix_fmt", "yuva444p10le",
                "-vendor", "apl0",
            ],
            Self::Mp4 => &[
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
                "-movflags", "+faststart",
            ],
            Self::Gif => &[
                "-filter_complex",
                "[0:v]split[a][b];[a]palettegen=reserve_transparent=1:stats_mode=diff[p];[b][p]paletteuse=alpha_threshold=128:dither=bayer",
                "-loop", "0",
            ],
            Self::Webp => &[
                "-c:v", "libwebp_anim", "-pix_fmt", "yuva420p", "-quality", "80", "-loop", "0",
            ],
            Self::PngSequence => &[],
        }
    }

    /// Audio codec arguments, for containers with audio.
    pub fn audio_args(self) -> &'static [&'static str] {
        match self {
            Self::Webm => &["-c:a", "libopus", "-b:a", "128k"],
            Self::Mov | Self::Mp4 => &["-c:a", "aac", "-b:a", "192k"],
            _ => &[],
        }
    }

    /// ffmpeg's muxer name.
    pub fn muxer(self) -> &'static str {
        match self {
            Self::Webm => "webm",
            Self::Mov => "mov",
            Self::Mp4 => "mp4",
            Self::Gif => "gif",
            Self::Webp => "webp",
            Self::PngSequence => "zip",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_alpha_is_where_the_format_has_it() {
        for f in VideoFormat::ALL {
            assert_eq!(VideoFormat::parse(f.as_str()), Some(f));
        }
        assert!(!VideoFormat::Mp4.has_alpha() && VideoFormat::Webm.has_alpha());
        assert!(VideoFormat::Mov.has_audio() && !VideoFormat::Gif.has_audio());
        assert_eq!(VideoFormat::PngSequence.extension(), "zip");
    }
}
