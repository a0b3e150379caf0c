mod api;
mod browser;
mod degraded;
mod fixture;
mod hardening;
mod lookup;
mod sharing;
