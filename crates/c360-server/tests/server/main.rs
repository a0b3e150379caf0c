mod api;
mod browser;
mod fixture;
