#include "runtime/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <queue>
#include <set>
#include <thread>
#include <unordered_set>

#include "backends/backend.h"
#include "backends/reference/registry.h"
#include "core/threads.h"
#include "runtime/memory_planner.h"
#include "runtime/worker_pool.h"

namespace hwopt {

namespace {

// Names read by a node's subgraphs from enclosing scopes.
void subgraph_outer_reads(const ir::Graph& g, std::set<std::string>& reads) {
  std::unordered_set<std::string> local;
  for (const auto& v : g.inputs) local.insert(v.name);
  for (const auto& [k, v] : g.initializers) local.insert(k);
  for (const auto& n : g.nodes)
    for (const auto& o : n.outputs) local.insert(o);
  std::set<std::string> inner;
  for (const auto& n : g.nodes) {
    for (const auto& i : n.inputs)
      if (!i.empty() && !local.count(i)) reads.insert(i);
    for (const auto& a : n.attributes) {
      if (a.g) subgraph_outer_reads(*a.g, inner);
      for (const auto& sg : a.graphs) subgraph_outer_reads(*sg, inner);
    }
  }
  for (const auto& o : g.outputs)
    if (!local.count(o.name)) reads.insert(o.name);
  for (const auto& r : inner)
    if (!local.count(r)) reads.insert(r);
}

std::vector<std::string> node_implicit_inputs(const ir::Node& n) {
  std::set<std::string> reads;
  for (const auto& a : n.attributes) {
    if (a.g) subgraph_outer_reads(*a.g, reads);
    for (const auto& sg : a.graphs) subgraph_outer_reads(*sg, reads);
  }
  return {reads.begin(), reads.end()};
}

size_t value_bytes(const ir::Graph& g, const std::string& name, bool& known) {
  const ir::ValueInfo* vi = g.find_value(name);
  known = false;
  if (!vi || vi->kind != ir::ValueKind::tensor || vi->dtype == DType::undefined || vi->dtype == DType::string) return 0;
  if (!vi->has_shape) return 0;
  // Named symbolic dims (a batch size, a sequence length) are planned at 1: the plan reports
  // the peak per unit of each symbolic dim; unnamed unknown dims leave the value unplanned.
  Shape s;
  for (const auto& d : vi->shape) {
    if (!d.known() && d.param.empty()) return 0;
    s.push_back(d.known() ? d.value : 1);
  }
  int64_t n = shape_numel(s);
  if (n < 0) return 0;
  known = true;
  return static_cast<size_t>(n) * dtype_size(vi->dtype);
}

}  // namespace

Status Plan::build(const ir::Graph& graph, const std::vector<std::string>& outer_names) {
  auto gp = std::make_unique<GraphPlan>();
  gp->graph = &graph;
  auto order = ir::topological_order(graph, outer_names);
  if (!order.ok()) return order.status();

  auto add_slot = [&](const std::string& name) {
    auto it = gp->slot_of.find(name);
    if (it != gp->slot_of.end()) return it->second;
    int s = static_cast<int>(gp->slot_names.size());
    gp->slot_of[name] = s;
    gp->slot_names.push_back(name);
    return s;
  };
  for (const auto& v : graph.inputs) gp->input_slots.push_back(add_slot(v.name));
  for (const auto& [name, t] : graph.initializers) gp->initializer_slots.emplace_back(add_slot(name), t);
  for (const auto& n : graph.nodes)
    for (const auto& o : n.outputs)
      if (!o.empty()) add_slot(o);
  // Everything else that is read comes from an enclosing graph.
  std::set<std::string> outer_reads;
  for (const auto& n : graph.nodes) {
    for (const auto& i : n.inputs)
      if (!i.empty() && !gp->slot_of.count(i)) outer_reads.insert(i);
    for (const auto& i : node_implicit_inputs(n))
      if (!gp->slot_of.count(i)) outer_reads.insert(i);
  }
  for (const auto& o : graph.outputs)
    if (!gp->slot_of.count(o.name)) outer_reads.insert(o.name);
  for (const auto& name : outer_reads) gp->outer_slots.emplace_back(add_slot(name), name);
  for (const auto& o : graph.outputs) gp->output_slots.push_back(gp->slot_of.at(o.name));

  const auto& registry = reference::KernelRegistry::instance();
  std::vector<int> last_use(gp->slot_names.size(), -1);
  std::vector<int> first_def(gp->slot_names.size(), -1);
  for (size_t k = 0; k < order->size(); ++k) {
    const ir::Node& node = graph.nodes[(*order)[k]];
    PlanStep step;
    step.node = &node;
    const auto* def = registry.find(node.op_type, node.domain, node.opset);
    if (!def)
      return Status(StatusCode::unsupported,
                    fmt::format("{}: no kernel for op '{}' (domain '{}', opset {}) on backend '{}'", node.label(),
                                node.op_type, node.domain.empty() ? "ai.onnx" : node.domain, node.opset,
                                options_.backend));
    const NodeContext nctx{node, graph, options_.threads > 0 ? options_.threads : physical_cores(), options_.precision,
                           &options_.ranges, &options_.fp32_nodes, options_.layout, options_.conv_algorithm};
    KernelChoice choice = choose_kernel(options_.backend, nctx, def->fn);
    step.fn = std::move(choice.fn);
    step.implementation = std::move(choice.implementation);
    step.declined = std::move(choice.declined);
    step.accepts_layouts = choice.accepts_layouts;
    step.accepts_quantized = choice.accepts_quantized;
    for (const auto& i : node.inputs) {
      int s = i.empty() ? -1 : gp->slot_of.at(i);
      step.input_slots.push_back(s);
      if (s >= 0) last_use[s] = static_cast<int>(k);
    }
    for (const auto& i : node_implicit_inputs(node)) {
      auto it = gp->slot_of.find(i);
      if (it == gp->slot_of.end()) continue;
      last_use[it->second] = static_cast<int>(k);
      step.implicit_slots.push_back(it->second);
    }
    for (const auto& o : node.outputs) {
      int s = o.empty() ? -1 : gp->slot_of.at(o);
      step.output_slots.push_back(s);
      if (s >= 0) first_def[s] = static_cast<int>(k);
    }
    gp->steps.push_back(std::move(step));
    // Subgraphs see everything visible here.
    for (const auto& a : node.attributes) {
      std::vector<const ir::Graph*> subs;
      if (a.g) subs.push_back(a.g.get());
      for (const auto& sg : a.graphs) subs.push_back(sg.get());
      for (const ir::Graph* sg : subs) {
        std::vector<std::string> visible = outer_names;
        for (const auto& n : gp->slot_names) visible.push_back(n);
        Status st = build(*sg, visible);
        if (!st.ok())
          return Status(st.code(), fmt::format("in subgraph '{}' of {}: {}", a.name, node.label(), st.message()));
      }
    }
  }
  std::set<int> keep(gp->output_slots.begin(), gp->output_slots.end());
  for (size_t s = 0; s < last_use.size(); ++s)
    if (last_use[s] >= 0 && !keep.count(static_cast<int>(s))) gp->steps[last_use[s]].free_after.push_back(static_cast<int>(s));

  // The steps' dependencies (values are written once: a step waits only for their writers).
  gp->successors.assign(gp->steps.size(), {});
  gp->predecessors.assign(gp->steps.size(), 0);
  gp->slot_readers.assign(gp->slot_names.size(), 0);
  for (size_t k = 0; k < gp->steps.size(); ++k) {
    std::set<int> reads;
    for (int s : gp->steps[k].input_slots)
      if (s >= 0) reads.insert(s);
    reads.insert(gp->steps[k].implicit_slots.begin(), gp->steps[k].implicit_slots.end());
    std::set<int> writers;
    for (int s : reads) {
      if (last_use[s] >= 0 && !keep.count(s)) ++gp->slot_readers[s];
      if (first_def[s] >= 0 && first_def[s] < static_cast<int>(k)) writers.insert(first_def[s]);
    }
    for (int w : writers) gp->successors[w].push_back(static_cast<int>(k));
    gp->predecessors[k] = static_cast<int>(writers.size());
  }

  // Memory plan of the intermediates whose sizes are known from shape inference.
  std::vector<BufferLifetime> buffers;
  const int end = static_cast<int>(gp->steps.size());
  for (size_t s = 0; s < gp->slot_names.size(); ++s) {
    if (first_def[s] < 0) continue;
    bool known = false;
    size_t bytes = value_bytes(graph, gp->slot_names[s], known);
    if (!known) {
      ++gp->planned_unknown;
      continue;
    }
    int last = keep.count(static_cast<int>(s)) ? end : std::max(last_use[s], first_def[s]);
    buffers.push_back({bytes, first_def[s], last});
  }
  gp->planned_peak_bytes = plan_memory(buffers).arena_bytes;
  plans_[&graph] = std::move(gp);
  return Status::OK();
}

namespace {
std::atomic<uint64_t> g_timed_steps{0};

// std::bad_alloc thrown by a kernel, re-thrown with the label of the node (and of the nodes
// enclosing its subgraph) so that the out_of_memory Status names it.
struct OutOfMemory : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace

uint64_t timed_step_count() { return g_timed_steps.load(std::memory_order_relaxed); }

Plan::~Plan() = default;

Expected<std::unique_ptr<Plan>> Plan::create(std::shared_ptr<const ir::Graph> graph, const PlanOptions& options) {
  auto backends = known_backends();
  if (std::find(backends.begin(), backends.end(), options.backend) == backends.end())
    return Status(StatusCode::unsupported, fmt::format("backend '{}' is not available (have: cpu, reference)", options.backend));
  auto plan = std::unique_ptr<Plan>(new Plan());
  plan->options_ = options;
  plan->graph_ = std::move(graph);
  HWOPT_RETURN_IF_ERROR(plan->build(*plan->graph_, {}));
  // Inter-op workers: the calling thread and a pool of inter_op - 1 (each gets a thread at least).
  const int threads = options.threads > 0 ? options.threads : physical_cores();
  const int workers = std::min(options.inter_op, threads);
  if (workers > 1) plan->pool_ = std::make_unique<WorkerPool>(workers - 1);
  return plan;
}

// Per-run state shared by the frames of one run: a pool of freed buffers for reuse.
struct Plan::RunState {
  bool profile = false;
  const std::function<void(const std::string&, const Tensor&)>* observe = nullptr;
  std::chrono::steady_clock::time_point start;
  double profiling_ms = 0;
  std::vector<StepStat>* steps = nullptr;
  size_t peak_bytes = 0;
};

struct Plan::Frame {
  const GraphPlan* plan = nullptr;
  std::vector<RtValue> slots;
  const Frame* parent = nullptr;

  const RtValue* lookup(const std::string& name) const {
    auto it = plan->slot_of.find(name);
    if (it != plan->slot_of.end()) {
      const RtValue& v = slots[it->second];
      bool outer = false;
      for (const auto& [s, n] : plan->outer_slots)
        if (s == it->second) outer = true;
      if (!outer || !v.is_none()) return &v;
    }
    return parent ? parent->lookup(name) : nullptr;
  }
};

namespace {
ValueDesc describe(const RtValue* v) {
  ValueDesc d;
  if (v == nullptr || !v->is_tensor()) return d;
  d.present = true;
  d.dtype = v->tensor.dtype();
  d.shape = v->tensor.shape();
  return d;
}

// Bytes of the tensors alive in `slots`, not counting the weights (`weights` lists their slots).
size_t live_bytes(const std::vector<RtValue>& slots, const std::vector<std::pair<int, Tensor>>& weights) {
  std::set<const Storage*> seen;
  for (const auto& [slot, t] : weights)
    if (t.storage()) seen.insert(t.storage().get());
  size_t total = 0;
  auto add = [&](const Tensor& t) {
    if (t.storage() && seen.insert(t.storage().get()).second) total += t.storage()->bytes();
  };
  for (const auto& v : slots) {
    if (v.is_tensor()) add(v.tensor);
    for (const auto& t : v.sequence) add(t);
  }
  return total;
}
}  // namespace

// The main graph's steps on the calling thread and workers - 1 of the plan's pool. A step is ready when the steps that write what it
// reads have finished; ready steps start in plan order (the sequential order's memory profile as
// far as the dependencies allow); a value is freed when its last reader has finished. A step
// that is the only one ready while none runs (a chain) runs alone on all the intra-op threads;
// steps that can run together get threads / workers intra-op threads each (at least 1), so the
// two levels together never use more threads than the intra-op setting. The first error stops
// the scheduling of new steps and is rethrown once the running ones have finished.
void Plan::run_concurrently(const GraphPlan& gp, Frame& frame, RunState& state, const SubgraphRunner& runner,
                            int workers) const {
  const int threads = options_.threads > 0 ? options_.threads : physical_cores();
  const int intra = std::max(1, threads / workers);
  // The scheduler's state, shared with the pool's jobs: a job that starts after this run has
  // returned (its thread was busy with another run) finds it closed and touches nothing else.
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<int> waiting, readers;
    std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
    size_t finished = 0, running = 0;
    int active = 0;      // threads inside work()
    bool alone = false;  // a step runs on all the threads: the others wait
    bool closed = false;
    std::exception_ptr error;
  };
  auto sh = std::make_shared<Shared>();
  sh->waiting = gp.predecessors;
  sh->readers = gp.slot_readers;
  for (size_t k = 0; k < gp.steps.size(); ++k)
    if (sh->waiting[k] == 0) sh->ready.push(static_cast<int>(k));
  auto work = [this, sh, &gp, &frame, &state, &runner, threads, intra](int worker) {
    std::unique_lock<std::mutex> lock(sh->mutex);
    if (sh->closed) return;
    ++sh->active;
    for (;;) {
      sh->changed.wait(lock, [&] {
        return (!sh->ready.empty() && !sh->alone) || sh->finished == gp.steps.size() ||
               (sh->error && sh->running == 0);
      });
      if (sh->error || sh->ready.empty() || sh->alone) break;
      const int k = sh->ready.top();
      sh->ready.pop();
      const bool all_threads = sh->running == 0 && sh->ready.empty();
      if (all_threads) sh->alone = true;
      ++sh->running;
      lock.unlock();
      set_intra_op_threads(all_threads ? threads : intra);
      const PlanStep& step = gp.steps[static_cast<size_t>(k)];
      std::exception_ptr failed;
      try {
        run_step(gp, step, frame, state, runner, &sh->mutex, worker);
      } catch (...) {
        failed = std::current_exception();
      }
      lock.lock();
      --sh->running;
      if (all_threads) sh->alone = false;
      if (failed) {
        if (!sh->error) sh->error = failed;
      } else {
        ++sh->finished;
        std::set<int> reads(step.implicit_slots.begin(), step.implicit_slots.end());
        for (int s : step.input_slots)
          if (s >= 0) reads.insert(s);
        for (int s : reads)
          if (gp.slot_readers[s] > 0 && --sh->readers[s] == 0) frame.slots[s] = RtValue{};
        for (int next : gp.successors[static_cast<size_t>(k)])
          if (--sh->waiting[static_cast<size_t>(next)] == 0) sh->ready.push(next);
      }
      sh->changed.notify_all();
    }
    --sh->active;
    sh->changed.notify_all();
  };
  for (int w = 1; w < workers; ++w) pool_->submit([work, w] { work(w); });
  work(0);
  std::unique_lock<std::mutex> lock(sh->mutex);
  sh->changed.wait(lock, [&] { return sh->active == 0; });
  sh->closed = true;
  lock.unlock();
  set_intra_op_threads(threads);
  if (sh->error) std::rethrow_exception(sh->error);
}

void Plan::run_step(const GraphPlan& gp, const PlanStep& step, Frame& frame, RunState& state,
                    const SubgraphRunner& runner, std::mutex* slots_mutex, int worker) const {
  const bool record = state.profile && state.steps && frame.parent == nullptr;
  const auto t0 = state.profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  std::vector<const RtValue*> ins;
  ins.reserve(step.input_slots.size());
  std::vector<RtValue> plain;  // inputs converted from a backend layout for this step
  plain.reserve(step.input_slots.size());
  for (int s : step.input_slots) {
    const RtValue* v = s >= 0 ? &frame.slots[s] : nullptr;
    if (v && v->is_tensor() && !v->tensor.is_plain() &&
        (!step.accepts_layouts || (!step.accepts_quantized && v->tensor.layout()->quantized()))) {
      plain.push_back(RtValue::of(v->tensor.to_plain()));
      v = &plain.back();
    }
    ins.push_back(v);
  }
  const auto t_kernel = state.profile && !plain.empty() ? std::chrono::steady_clock::now() : t0;
  StepStat stat;
  if (record)
    for (const RtValue* v : ins) stat.inputs.push_back(describe(v));
  KernelContext ctx(*step.node, std::move(ins), runner);
  try {
    step.fn(ctx);
  } catch (const KernelError& e) {
    throw KernelError(fmt::format("{}: {}", step.node->label(), e.what()));
  } catch (const OutOfMemory& e) {  // from a subgraph's step: add the enclosing node
    throw OutOfMemory(fmt::format("{}: {}", step.node->label(), e.what()));
  } catch (const std::bad_alloc&) {
    throw OutOfMemory(fmt::format("{}: out of memory while running it", step.node->label()));
  } catch (const std::exception& e) {  // e.g. std::out_of_range from a container: still name the node
    throw KernelError(fmt::format("{}: unexpected error: {}", step.node->label(), e.what()));
  }
  const auto t1 = state.profile ? std::chrono::steady_clock::now() : t0;
  std::unique_lock<std::mutex> lock;
  if (slots_mutex) lock = std::unique_lock<std::mutex>(*slots_mutex);
  for (size_t o = 0; o < step.output_slots.size(); ++o) {
    int s = step.output_slots[o];
    if (record) stat.outputs.push_back(describe(s >= 0 ? &ctx.outputs()[o] : nullptr));
    if (s < 0) continue;
    RtValue& v = ctx.outputs()[o];
    if (state.observe && frame.parent == nullptr && v.is_tensor())
      (*state.observe)(step.node->outputs[o], v.tensor.is_plain() ? v.tensor : v.tensor.to_plain());
    frame.slots[s] = std::move(v);
  }
  if (state.profile) {
    g_timed_steps.fetch_add(1, std::memory_order_relaxed);
    const auto m0 = std::chrono::steady_clock::now();
    state.peak_bytes = std::max(state.peak_bytes, live_bytes(frame.slots, gp.initializer_slots));
    state.profiling_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - m0).count();
    if (record) {
      using ms_t = std::chrono::duration<double, std::milli>;
      stat.node_name = step.node->name;
      stat.op_type = step.node->op_type;
      stat.domain = step.node->domain;
      stat.implementation = step.implementation;
      stat.kernel = ctx.kernel_detail();
      stat.fused_from = step.node->fused_from;
      stat.node_index = static_cast<size_t>(step.node - gp.graph->nodes.data());
      stat.start_ms = ms_t(t0 - state.start).count();
      stat.ms = ms_t(t1 - t0).count();
      stat.layout_ms = ms_t(t_kernel - t0).count();
      stat.worker = worker;
      state.steps->push_back(std::move(stat));
    }
  }
}

std::vector<RtValue> Plan::run_graph(const GraphPlan& gp, std::vector<RtValue> inputs, const Frame* parent,
                                     RunState& state) const {
  Frame frame;
  frame.plan = &gp;
  frame.parent = parent;
  frame.slots.resize(gp.slot_names.size());
  for (const auto& [slot, t] : gp.initializer_slots) frame.slots[slot] = RtValue::of(t);
  HWOPT_KCHECK(inputs.size() <= gp.input_slots.size(), "graph '{}' takes {} inputs, got {}", gp.graph->name,
               gp.input_slots.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].is_none() || frame.slots[gp.input_slots[i]].is_none()) frame.slots[gp.input_slots[i]] = std::move(inputs[i]);
  for (const auto& [slot, name] : gp.outer_slots) {
    const RtValue* v = parent ? parent->lookup(name) : nullptr;
    if (v) frame.slots[slot] = *v;
  }
  const SubgraphRunner runner = [this, &frame, &state](const ir::Graph& g, std::vector<RtValue> in) {
    auto it = plans_.find(&g);
    HWOPT_KCHECK(it != plans_.end(), "subgraph '{}' has no plan", g.name);
    return run_graph(*it->second, std::move(in), &frame, state);
  };
  const int workers = pool_ ? pool_->size() + 1 : 1;
  if (parent == nullptr && workers > 1 && gp.steps.size() > 1) {
    run_concurrently(gp, frame, state, runner, workers);
  } else {
    for (const PlanStep& step : gp.steps) {
      run_step(gp, step, frame, state, runner, nullptr);
      for (int s : step.free_after) frame.slots[s] = RtValue{};
    }
  }
  std::vector<RtValue> outs;
  outs.reserve(gp.output_slots.size());
  for (int s : gp.output_slots) {
    const RtValue* v = &frame.slots[s];
    if (v->is_none()) {
      const RtValue* outer = frame.lookup(gp.slot_names[s]);
      if (outer) v = outer;
    }
    outs.push_back(*v);
    if (outs.back().is_tensor() && !outs.back().tensor.is_plain()) outs.back().tensor = outs.back().tensor.to_plain();
  }
  return outs;
}

Expected<std::vector<RtValue>> Plan::run(std::vector<RtValue> inputs, const RunOptions& options, RunStats* stats) const {
  RunState state;
  state.profile = options.profile || stats != nullptr;
  if (options.observe) state.observe = &options.observe;
  if (stats) stats->steps.clear();
  state.steps = stats ? &stats->steps : nullptr;
  auto t0 = std::chrono::steady_clock::now();
  state.start = t0;
  if (options_.backend != "reference") {
    set_intra_op_threads(options_.threads);
    if (options_.pin_threads) pin_intra_op_threads(intra_op_threads());
  }
  try {
    auto outs = run_graph(main(), std::move(inputs), nullptr, state);
    if (stats) {
      stats->total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      stats->peak_bytes = state.peak_bytes;
      stats->profiling_ms = state.profiling_ms;
    }
    return outs;
  } catch (const KernelError& e) {
    return Status(StatusCode::runtime_error, e.what());
  } catch (const OutOfMemory& e) {
    return Status(StatusCode::out_of_memory, e.what());
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::out_of_memory, "out of memory while running the model");
  } catch (const std::exception& e) {
    return Status(StatusCode::runtime_error, std::string("unexpected error while running: ") + e.what());
  }
}

}  // namespace hwopt
