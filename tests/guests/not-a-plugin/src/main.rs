//! A WASI command component: it exports `wasi:cli/run` and none of wasmhost's interfaces, so
//! the host must refuse to load it as a plugin with a clear message.

fn main() {
    println!("not a plugin");
}
