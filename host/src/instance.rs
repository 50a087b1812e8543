//! The state of one component instance (a fresh one per request, as Spin
//! does for WASI 0.2 components) and the linking of the Spin interfaces to
//! it. The interfaces themselves live in their own modules ([`crate::kv`],
//! [`crate::variables`]) and see only their part of the state through a
//! view, so none of them depends on the server or on this module.

use std::sync::Arc;

use wasmtime::component::{Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::kv::{KvCounts, KvData, KvState, KvView};
use crate::outbound::OutboundHooks;
use crate::variables::{ComponentVariables, VariablesData, VariablesView};

/// Store data of one instance.
pub struct InstanceState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: OutboundHooks,
    kv: KvState,
    variables: Arc<ComponentVariables>,
    memory: MemoryPeak,
}

/// Records how large the instance's linear memories grew: wasmtime asks the
/// store's limiter before creating a memory (from 0 to its initial size) and
/// before every `memory.grow`, and linear memory never shrinks, so the sum
/// of the granted growth is the peak. Nothing is refused (as in Spin without
/// `max_instance_memory`). `grows` counts the `memory.grow`s that asked for
/// more than the memory had: a pooling host pays each with page-protection
/// changes, now and when the instance's memory is reset (docs/benchmarks.md,
/// "The authorizer's memory image").
#[derive(Debug, Default)]
struct MemoryPeak {
    bytes: usize,
    grows: usize,
}

impl wasmtime::ResourceLimiter for MemoryPeak {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.bytes += desired.saturating_sub(current);
        if current > 0 && desired > current {
            self.grows += 1;
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl InstanceState {
    /// The state of a new instance.
    pub fn new(
        wasi: WasiCtx,
        hooks: OutboundHooks,
        kv: KvState,
        variables: Arc<ComponentVariables>,
    ) -> Self {
        Self {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks,
            kv,
            variables,
            memory: MemoryPeak::default(),
        }
    }

    /// The limiter that records the peak linear memory (installed on the
    /// store only when `FLOWGATE_HOST_MEMORY_LOG` is set).
    pub fn memory_limiter(&mut self) -> &mut dyn wasmtime::ResourceLimiter {
        &mut self.memory
    }

    /// The largest this instance's linear memories have been, in bytes,
    /// and how many times they grew after their creation.
    pub fn peak_memory(&self) -> (usize, usize) {
        (self.memory.bytes, self.memory.grows)
    }

    /// The key-value calls this instance made.
    pub fn kv_counts(&self) -> KvCounts {
        self.kv.counts
    }

    fn kv_view(&mut self) -> KvView<'_> {
        KvView {
            table: &mut self.table,
            kv: &mut self.kv,
        }
    }

    fn variables_view(&mut self) -> VariablesView<'_> {
        VariablesView {
            variables: &self.variables,
            reads: &mut self.kv.counts.variables,
        }
    }
}

/// Links Spin's key-value (`fermyon:spin/key-value`, `wasi:keyvalue`) and
/// variables interfaces to the instance state.
pub fn add_spin_interfaces(linker: &mut Linker<InstanceState>) -> wasmtime::Result<()> {
    use crate::bindings::{fermyon, wasi};
    fermyon::spin::key_value::add_to_linker::<_, KvData>(linker, InstanceState::kv_view)?;
    wasi::keyvalue::store::add_to_linker::<_, KvData>(linker, InstanceState::kv_view)?;
    wasi::keyvalue::atomics::add_to_linker::<_, KvData>(linker, InstanceState::kv_view)?;
    fermyon::spin::variables::add_to_linker::<_, VariablesData>(
        linker,
        InstanceState::variables_view,
    )?;
    Ok(())
}
