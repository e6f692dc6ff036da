//! The app's `CoreHost` seen from Rust: calls into the JVM from the core's threads.

use std::net::SocketAddr;
use std::os::fd::RawFd;

use jni::objects::{GlobalRef, JObject, JValue};
use jni::{JNIEnv, JavaVM};
use phonehome_model::Proto;

use crate::contract::StopReason;
use crate::error::CoreError;
use crate::outbox::Batch;

const STOP_REASON: &str = "org/phonehome/core/StopReason";
const STOP_REASON_SIG: &str = "Lorg/phonehome/core/StopReason;";

/// What the core asks of the platform, and where its events go (the app's `CoreHost`).
pub trait Host: Send + Sync + 'static {
    /// Keeps a socket out of the VPN; false if the platform refused.
    fn protect(&self, fd: RawFd) -> bool;
    fn connection_owner_uid(
        &self,
        proto: Proto,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<u32>;
    fn app_for_uid(&self, uid: u32) -> Option<String>;
    /// The organisation (subject O=) of the certificate the app is signed with.
    fn signer_of_app(&self, _app: &str) -> Option<String> {
        None
    }
    /// Flow records, findings and discovered identifiers of `session`, as JSON lines (see
    /// [`Batch`]).
    fn on_records(&self, session: i64, batch: &Batch);
    /// The session ended: why, and in words for people.
    fn on_stopped(&self, reason: StopReason, message: &str);
}

pub struct JavaHost {
    vm: JavaVM,
    host: GlobalRef,
    /// `StopReason`'s constants in [`StopReason::ALL`]'s order. Looked up here, on the
    /// app's thread: on the core's own threads Android finds only system classes by name.
    stop_reasons: Vec<GlobalRef>,
}

impl JavaHost {
    pub fn new(env: &mut JNIEnv<'_>, host: &JObject<'_>) -> Result<Self, CoreError> {
        let mut stop_reasons = Vec::with_capacity(StopReason::ALL.len());
        for reason in StopReason::ALL {
            let value = env
                .get_static_field(STOP_REASON, reason.name(), STOP_REASON_SIG)?
                .l()?;
            stop_reasons.push(env.new_global_ref(&value)?);
            env.delete_local_ref(value)?;
        }
        Ok(Self {
            vm: env.get_java_vm()?,
            host: env.new_global_ref(host)?,
            stop_reasons,
        })
    }

    /// Calls `name` on the host from whatever core thread this is (attached as a daemon,
    /// so the JVM never waits for it). A Java exception thrown by the callback is
    /// cleared and logged: it must not stay pending on a thread the core reuses.
    fn call<T>(
        &self,
        name: &str,
        signature: &str,
        args: &[JValue<'_, '_>],
        read: impl FnOnce(&mut JNIEnv<'_>, jni::objects::JValueOwned<'_>) -> jni::errors::Result<T>,
    ) -> Option<T> {
        let mut env = self.attach()?;
        // Local references made here are freed when the frame is popped, not at thread
        // exit (the core's threads live long).
        let result = env.with_local_frame(8, |env| {
            let value = env.call_method(self.host.as_obj(), name, signature, args)?;
            read(env, value)
        });
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                Self::failed(&mut env, name, &e);
                None
            }
        }
    }

    /// A callback failed: a Java exception it threw is described and cleared, since it
    /// must not stay pending on a thread the core reuses.
    fn failed(env: &mut JNIEnv<'_>, name: &str, e: &jni::errors::Error) {
        if env.exception_check().unwrap_or(false) {
            let _ = env.exception_describe();
            let _ = env.exception_clear();
        }
        log::warn!("CoreHost.{name} failed: {e}");
    }

    fn string_arg<'a>(env: &mut JNIEnv<'a>, text: &str) -> Option<JObject<'a>> {
        env.new_string(text).ok().map(JObject::from)
    }
}

impl Host for JavaHost {
    fn protect(&self, fd: RawFd) -> bool {
        self.call("protect", "(I)Z", &[JValue::Int(fd)], |_, v| v.z())
            .unwrap_or(false)
    }

    fn connection_owner_uid(
        &self,
        proto: Proto,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<u32> {
        let protocol = match proto {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Icmp => return None,
        };
        let mut env = self.attach()?;
        let uid = env
            .with_local_frame(8, |env| -> jni::errors::Result<i32> {
                let (Some(l), Some(r)) = (
                    Self::string_arg(env, &local.ip().to_string()),
                    Self::string_arg(env, &remote.ip().to_string()),
                ) else {
                    return Ok(-1);
                };
                env.call_method(
                    self.host.as_obj(),
                    "connectionOwnerUid",
                    "(ILjava/lang/String;ILjava/lang/String;I)I",
                    &[
                        JValue::Int(protocol),
                        JValue::Object(&l),
                        JValue::Int(i32::from(local.port())),
                        JValue::Object(&r),
                        JValue::Int(i32::from(remote.port())),
                    ],
                )?
                .i()
            })
            .map_err(|e| Self::failed(&mut env, "connectionOwnerUid", &e))
            .ok()?;
        u32::try_from(uid).ok()
    }

    fn app_for_uid(&self, uid: u32) -> Option<String> {
        let uid = i32::try_from(uid).ok()?;
        self.call(
            "appForUid",
            "(I)Ljava/lang/String;",
            &[JValue::Int(uid)],
            |env, v| {
                let object = v.l()?;
                if object.is_null() {
                    return Ok(None);
                }
                let text: String = env.get_string(&object.into())?.into();
                Ok(Some(text))
            },
        )
        .flatten()
    }

    fn signer_of_app(&self, app: &str) -> Option<String> {
        let mut env = self.attach()?;
        env.with_local_frame(8, |env| -> jni::errors::Result<Option<String>> {
            let Some(name) = Self::string_arg(env, app) else {
                return Ok(None);
            };
            let object = env
                .call_method(
                    self.host.as_obj(),
                    "signerOfApp",
                    "(Ljava/lang/String;)Ljava/lang/String;",
                    &[JValue::Object(&name)],
                )?
                .l()?;
            if object.is_null() {
                return Ok(None);
            }
            Ok(Some(env.get_string(&object.into())?.into()))
        })
        .map_err(|e| Self::failed(&mut env, "signerOfApp", &e))
        .ok()
        .flatten()
    }

    fn on_records(&self, session: i64, batch: &Batch) {
        let Some(mut env) = self.attach() else {
            return;
        };
        let result = env.with_local_frame(4, |env| -> jni::errors::Result<()> {
            let flows = env.new_string(&batch.flows)?;
            let findings = env.new_string(&batch.findings)?;
            let discovered = env.new_string(&batch.discovered)?;
            env.call_method(
                self.host.as_obj(),
                "onRecords",
                "(JLjava/lang/String;Ljava/lang/String;Ljava/lang/String;)V",
                &[
                    JValue::Long(session),
                    JValue::Object(&flows),
                    JValue::Object(&findings),
                    JValue::Object(&discovered),
                ],
            )?;
            Ok(())
        });
        if let Err(e) = result {
            Self::failed(&mut env, "onRecords", &e);
        }
    }

    fn on_stopped(&self, reason: StopReason, message: &str) {
        let Some(index) = StopReason::ALL.iter().position(|r| *r == reason) else {
            return;
        };
        let reason = self.stop_reasons[index].as_obj();
        let Some(mut env) = self.attach() else {
            return;
        };
        let result = env.with_local_frame(4, |env| -> jni::errors::Result<()> {
            let message = env.new_string(message)?;
            env.call_method(
                self.host.as_obj(),
                "onStopped",
                "(Lorg/phonehome/core/StopReason;Ljava/lang/String;)V",
                &[JValue::Object(reason), JValue::Object(&message)],
            )?;
            Ok(())
        });
        if let Err(e) = result {
            Self::failed(&mut env, "onStopped", &e);
        }
    }
}

thread_local! {
    static NAMED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl JavaHost {
    /// This core thread's JNI environment. The thread is attached as a daemon (the JVM
    /// never waits for it) and, the first time, given its native name on the Java side
    /// too, so that traces and the app's callbacks can tell the core's threads apart.
    fn attach(&self) -> Option<JNIEnv<'_>> {
        let mut env = match self.vm.attach_current_thread_as_daemon() {
            Ok(env) => env,
            Err(e) => {
                log::error!("cannot attach a core thread to the JVM: {e}");
                return None;
            }
        };
        if !NAMED.replace(true) {
            if let Some(name) = std::thread::current().name() {
                let named = env.with_local_frame(4, |env| -> jni::errors::Result<()> {
                    let thread = env
                        .call_static_method(
                            "java/lang/Thread",
                            "currentThread",
                            "()Ljava/lang/Thread;",
                            &[],
                        )?
                        .l()?;
                    let name = env.new_string(name)?;
                    env.call_method(
                        &thread,
                        "setName",
                        "(Ljava/lang/String;)V",
                        &[JValue::Object(&name)],
                    )?;
                    Ok(())
                });
                if named.is_err() && env.exception_check().unwrap_or(false) {
                    let _ = env.exception_clear();
                }
            }
        }
        Some(env)
    }
}

/// Logs go to logcat on Android (tag `phonehome`); identifier values are never logged
/// anywhere in the core, only masked evidence.
pub fn init_logging() {
    #[cfg(target_os = "android")]
    android_logger::init_once(
        android_logger::Config::default()
            .with_tag("phonehome")
            .with_max_level(log::LevelFilter::Info),
    );
}
