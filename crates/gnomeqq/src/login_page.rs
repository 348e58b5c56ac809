//! The login page: the QR code, large and sharp, with its state; the saved account to
//! resume; the legacy password login; and the way into the sandbox.

use adw::prelude::*;
use adw::subclass::prelude::*;
use gettextrs::gettext;
use gnomeqq_core::LoginStep;
use gtk::{CompositeTemplate, gdk, glib};

use crate::i18n::gettext_f;

/// The QR code's least side on screen, in pixels: the served image is scaled up by the
/// smallest whole factor that reaches it, so every module stays a sharp square.
const QR_TARGET_SIDE: u32 = 264;

mod imp {
    use super::*;

    #[derive(Debug, Default, CompositeTemplate)]
    #[template(file = "login_page.ui")]
    pub struct LoginPage {
        #[template_child]
        pub(super) qr_stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub(super) spinner: TemplateChild<gtk::Spinner>,
        #[template_child]
        pub(super) qr_picture: TemplateChild<gtk::Picture>,
        #[template_child]
        pub(super) status_label: TemplateChild<gtk::Label>,
        #[template_child]
        pub(super) qr_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) saved_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub(super) saved_row: TemplateChild<adw::ActionRow>,
        #[template_child]
        pub(super) password_group: TemplateChild<adw::PreferencesGroup>,
        #[template_child]
        pub(super) qq_entry: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) password_entry: TemplateChild<adw::PasswordEntryRow>,
        #[template_child]
        pub(super) captcha_entry: TemplateChild<adw::EntryRow>,
        #[template_child]
        pub(super) captcha_picture: TemplateChild<gtk::Picture>,
        #[template_child]
        pub(super) password_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) resume_button: TemplateChild<gtk::Button>,
        #[template_child]
        pub(super) sandbox_button: TemplateChild<gtk::Button>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for LoginPage {
        const NAME: &'static str = "GnomeqqLoginPage";
        type Type = super::LoginPage;
        type ParentType = adw::Bin;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl LoginPage {
        #[template_callback]
        fn qr_login(&self) {
            let _ = WidgetExt::activate_action(&*self.obj(), "win.qr-login", None);
        }

        #[template_callback]
        fn resume(&self) {
            let _ = WidgetExt::activate_action(&*self.obj(), "win.resume-login", None);
        }

        #[template_callback]
        fn password_login(&self) {
            let _ = WidgetExt::activate_action(&*self.obj(), "win.password-login", None);
        }
    }

    impl ObjectImpl for LoginPage {}
    impl WidgetImpl for LoginPage {}
    impl BinImpl for LoginPage {}
}

glib::wrapper! {
    /// The page shown until the account is online.
    pub struct LoginPage(ObjectSubclass<imp::LoginPage>)
        @extends gtk::Widget, adw::Bin,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

/// What the password form holds.
#[derive(Debug)]
pub struct PasswordForm {
    /// The QQ number typed, if it is one.
    pub qq: Option<u64>,
    /// The password.
    pub password: String,
    /// The captcha answer, when one was asked.
    pub captcha: Option<String>,
}

impl LoginPage {
    /// A page showing the spinner.
    pub fn new() -> Self {
        glib::Object::new()
    }

    /// Back to the start: a spinner and `status`.
    pub fn reset(&self, status: &str) {
        let imp = self.imp();
        imp.spinner.set_spinning(true);
        imp.qr_stack.set_visible_child_name("waiting");
        imp.status_label.set_label(status);
        imp.status_label.remove_css_class("error");
        imp.qr_button.set_visible(false);
        imp.saved_group.set_visible(false);
        imp.captcha_entry.set_visible(false);
        imp.captcha_picture.set_visible(false);
    }

    /// While a login runs, its buttons take no clicks (a second click would start a
    /// second login).
    pub fn set_busy(&self, busy: bool) {
        let imp = self.imp();
        for button in [
            &*imp.qr_button,
            &*imp.resume_button,
            &*imp.password_button,
            &*imp.sandbox_button,
        ] {
            button.set_sensitive(!busy);
        }
    }

    /// Shows a login step.
    pub fn set_step(&self, step: &LoginStep) {
        let imp = self.imp();
        imp.status_label.remove_css_class("error");
        imp.saved_group.set_visible(false);
        imp.qr_button.set_visible(false);
        match step {
            LoginStep::QrReady { png, .. } => match crisp_qr_texture(png) {
                Some(texture) => {
                    // While the code waits for a scan, the other ways in stay open.
                    self.set_busy(false);
                    imp.qr_picture.set_paintable(Some(&texture));
                    imp.qr_stack.set_visible_child_name("code");
                    imp.spinner.set_spinning(false);
                    imp.status_label
                        .set_label(&gettext("Scan the code with the QQ app on your phone"));
                }
                None => self.show_error(&gettext("The server sent a QR code that cannot be shown")),
            },
            LoginStep::Waiting => {}
            LoginStep::Scanned => imp
                .status_label
                .set_label(&gettext("Scanned — confirm the login on your phone")),
            LoginStep::Expired => {
                imp.status_label
                    .set_label(&gettext("The code expired; a new one is on its way"));
                imp.spinner.set_spinning(true);
                imp.qr_stack.set_visible_child_name("waiting");
            }
            LoginStep::Connecting => {
                imp.status_label.set_label(&gettext("Logging in…"));
                imp.spinner.set_spinning(true);
                imp.qr_stack.set_visible_child_name("waiting");
            }
            _ => {}
        }
    }

    /// Offers the saved login of account `qq`, and a QR login for another account.
    pub fn show_saved(&self, qq: u64) {
        let imp = self.imp();
        imp.spinner.set_spinning(false);
        imp.qr_stack.set_visible_child_name("none");
        imp.status_label.set_label("");
        PreferencesRowExt::set_title(
            &*imp.saved_row,
            // Translators: the saved account to resume; {number} is a QQ number.
            &gettext_f("QQ {number}", &[("number", &qq.to_string())]),
        );
        imp.saved_group.set_visible(true);
        imp.qr_button.set_visible(true);
    }

    /// Shows a failure, and the button that starts a new QR login.
    pub fn show_error(&self, text: &str) {
        let imp = self.imp();
        imp.spinner.set_spinning(false);
        imp.qr_stack.set_visible_child_name("none");
        imp.status_label.set_label(text);
        imp.status_label.add_css_class("error");
        imp.qr_button.set_visible(true);
    }

    /// Shows or hides the password form (only the 2015 era had one).
    pub fn set_password_login_available(&self, available: bool) {
        let imp = self.imp();
        imp.password_group.set_visible(available);
        imp.password_button.set_visible(available);
    }

    /// Shows the captcha the server asks to be typed.
    pub fn show_captcha(&self, png: &[u8]) {
        let imp = self.imp();
        match decode_bounded(png).and_then(|image| memory_texture(&image)) {
            Some(texture) => {
                imp.captcha_picture.set_paintable(Some(&texture));
                imp.captcha_picture.set_visible(true);
                imp.captcha_entry.set_visible(true);
                imp.captcha_entry.set_text("");
                imp.captcha_entry.grab_focus();
            }
            None => {
                tracing::warn!("Unreadable or oversized captcha image");
                self.show_error(&gettext("The server sent a captcha that cannot be shown"));
            }
        }
    }

    /// What the password form holds.
    pub fn password_form(&self) -> PasswordForm {
        let imp = self.imp();
        let captcha = imp
            .captcha_entry
            .is_visible()
            .then(|| imp.captcha_entry.text().trim().to_owned());
        PasswordForm {
            qq: imp.qq_entry.text().trim().parse().ok(),
            password: imp.password_entry.text().to_string(),
            captcha,
        }
    }

    /// Types into the password form (the GUI test plays the person).
    pub fn set_password_form(&self, qq: &str, password: &str) {
        let imp = self.imp();
        imp.qq_entry.set_text(qq);
        imp.password_entry.set_text(password);
    }

    /// Whether the password form is offered.
    pub fn offers_password_login(&self) -> bool {
        self.imp().password_group.is_visible()
    }

    /// Empties the password field and hides the captcha (after a login attempt).
    pub fn clear_password(&self) {
        let imp = self.imp();
        imp.password_entry.set_text("");
        imp.captcha_entry.set_text("");
        imp.captcha_entry.set_visible(false);
        imp.captcha_picture.set_visible(false);
    }

    /// Whether a QR code is on screen.
    pub fn shows_qr_code(&self) -> bool {
        self.imp().qr_stack.visible_child_name().as_deref() == Some("code")
    }
}

impl Default for LoginPage {
    fn default() -> Self {
        Self::new()
    }
}

/// The largest image side the login page decodes: a QR code or captcha is a few hundred
/// pixels, and a server must not make the window decode hundreds of megabytes.
const MAX_IMAGE_SIDE: u32 = 1024;

/// Decodes an image the server sent, refusing any larger than [`MAX_IMAGE_SIDE`] before
/// decoding it, and lays it over white (transparent pixels of a code must read as paper).
fn decode_bounded(bytes: &[u8]) -> Option<image::RgbImage> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    reader.limits(limits);
    let decoded = reader.decode().ok()?.to_rgba8();
    let (width, height) = decoded.dimensions();
    if width == 0 || height == 0 {
        return None;
    }
    let over_white = image::RgbImage::from_fn(width, height, |x, y| {
        let [r, g, b, a] = decoded.get_pixel(x, y).0;
        let blend = |c: u8| {
            let c = u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a));
            u8::try_from(c / 255).unwrap_or(u8::MAX)
        };
        image::Rgb([blend(r), blend(g), blend(b)])
    });
    Some(over_white)
}

fn memory_texture(image: &image::RgbImage) -> Option<gdk::Texture> {
    let (width, height) = image.dimensions();
    let texture = gdk::MemoryTexture::new(
        i32::try_from(width).ok()?,
        i32::try_from(height).ok()?,
        gdk::MemoryFormat::R8g8b8,
        &glib::Bytes::from(image.as_raw().as_slice()),
        width as usize * 3,
    );
    Some(texture.upcast())
}

/// The served QR image scaled by a whole factor without smoothing, so every module stays
/// a sharp square; `None` when the bytes are not an image or too large to be a QR code.
pub fn crisp_qr_texture(png: &[u8]) -> Option<gdk::Texture> {
    let image = decode_bounded(png)?;
    let (width, height) = image.dimensions();
    // Rounded up: a code a little smaller than the target is drawn larger, not left small.
    let factor = QR_TARGET_SIDE.div_ceil(width.max(height)).clamp(1, 8);
    let scaled = image::imageops::resize(
        &image,
        width * factor,
        height * factor,
        image::imageops::FilterType::Nearest,
    );
    memory_texture(&scaled)
}

#[cfg(test)]
mod tests {
    use super::decode_bounded;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbaImage::from_pixel(width, height, image::Rgba([0, 0, 0, 0]));
        let mut bytes = std::io::Cursor::new(Vec::new());
        image
            .write_to(&mut bytes, image::ImageFormat::Png)
            .expect("a PNG in memory");
        bytes.into_inner()
    }

    #[test]
    fn transparent_pixels_become_white() {
        let image = decode_bounded(&png(3, 2)).expect("a small PNG decodes");
        assert_eq!(image.get_pixel(0, 0).0, [255, 255, 255]);
    }

    #[test]
    fn oversized_and_broken_images_are_refused_before_decoding() {
        assert!(decode_bounded(&png(2048, 8)).is_none());
        assert!(decode_bounded(b"not an image").is_none());
        assert!(decode_bounded(&[]).is_none());
    }
}
