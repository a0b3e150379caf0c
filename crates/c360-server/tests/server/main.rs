mod api;
mod browser;
mod fixture;
mod lookup;
mod sharing;
