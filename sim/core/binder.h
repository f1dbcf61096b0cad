#pragma once
/// Typed binding of declared parameters: each parameter is declared once (name, type, unit,
/// default, range, description) together with the field of the component's struct it fills,
/// so a model parses its `accelerator:` section with one generic walk and reads no value
/// by its name. Enum parameters take their strings from the enum's name table.
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "sim/core/enum_names.h"
#include "sim/core/params.h"

namespace bpsim::config {

/// `backend:` of the models that have a Verilated twin (the field: whether it runs on it).
inline constexpr EnumName<bool> kBackendNames[] = {{false, "model"}, {true, "rtl"}};

/// Where a parameter's value goes in a struct T: a member, a member of a member, or a
/// setter (for one value that fills more than one field).
template <class T, class F>
struct Into {
  std::function<void(T&, F)> set;
};
template <class T, class F>
Into<T, F> into(F T::*field) {
  return {[field](T& t, F v) { t.*field = std::move(v); }};
}
template <class T, class A, class F>
Into<T, F> into(A T::*outer, F A::*field) {
  return {[outer, field](T& t, F v) { (t.*outer).*field = std::move(v); }};
}

namespace detail {
/// A field's value type; std::optional fields may stay empty when the parameter is absent.
template <class F>
struct Field {
  using type = F;
  static constexpr bool optional = false;
};
template <class U>
struct Field<std::optional<U>> {
  using type = U;
  static constexpr bool optional = true;
};

/// `x * scale` as a U, or an InputError at `name` when the field cannot hold it (a range
/// declared wider than the field: caught here rather than wrapped).
template <class U>
U fit(const Values& v, const std::string& name, int64_t x, int64_t scale) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const bool wraps = scale > 1 && (x > kMax / scale || x < -kMax / scale);
  const int64_t y = wraps ? 0 : x * scale;
  bool fits = !wraps;
  if constexpr (std::is_signed_v<U>) {
    fits = fits && y >= int64_t(std::numeric_limits<U>::min()) && y <= int64_t(std::numeric_limits<U>::max());
  } else {
    fits = fits && y >= 0 && uint64_t(y) <= uint64_t(std::numeric_limits<U>::max());
  }
  if (!fits && x < 0) throw v.error(name, "value " + std::to_string(x) + " must not be negative");
  if (!fits)
    throw v.error(name, "value " + std::to_string(x) + (scale > 1 ? " x " + std::to_string(scale) : "") +
                            " does not fit the model's field (at most " +
                            std::to_string(std::numeric_limits<U>::max()) + ")");
  return static_cast<U>(y);
}
}  // namespace detail

/// What a Binder's declaring methods return: the declaration's fluent setters plus the
/// binding's own (`scale`).
class BoundParam {
 public:
  BoundParam(ParamDecl& decl, int64_t& scale) : m_decl(decl), m_scale(scale) {}
  template <class V>
  BoundParam& def(V v) {
    m_decl.def(v);
    return *this;
  }
  BoundParam& req() {
    m_decl.req();
    return *this;
  }
  BoundParam& range(double lo, double hi) {
    m_decl.range(lo, hi);
    return *this;
  }
  BoundParam& positive() {
    m_decl.positive();
    return *this;
  }
  BoundParam& at_least(double lo) {
    m_decl.at_least(lo);
    return *this;
  }
  BoundParam& exclusive_min() {
    m_decl.exclusive_min();
    return *this;
  }
  /// The field holds the value times `k`, e.g. 1024 for a KiB parameter filling a byte count.
  BoundParam& scale(int64_t k) {
    if (m_decl.type != ParamType::Int || k < 1) throw std::logic_error("scale applies to integers, by k >= 1");
    m_scale = k;
    return *this;
  }

 private:
  ParamDecl& m_decl;
  int64_t& m_scale;
};

/// Declares a component's parameters (its Schema) and binds each to a field of its typed
/// struct T, so `parse` fills T from validated values in one walk: the name, type, default
/// and range are written once, in the declaration. Cross-parameter checks stay explicit
/// code after `parse`, raising Values::error so messages keep file, line and key path.
template <class T>
class Binder {
 public:
  Binder(std::string name, std::string description)
      : m_schema(std::make_shared<Schema>(std::move(name), std::move(description))) {}

  template <class F>
  BoundParam integer(const std::string& name, F T::*field, const std::string& unit, const std::string& desc) {
    return integer(name, into(field), unit, desc);
  }
  template <class F>
  BoundParam integer(const std::string& name, Into<T, F> to, const std::string& unit, const std::string& desc) {
    using U = typename detail::Field<F>::type;
    static_assert(std::is_integral_v<U> && !std::is_same_v<U, bool>, "an integer parameter fills an integer field");
    return bind<F>(m_schema->integer(name, unit, desc),
                   [set = std::move(to.set)](const Values& v, const Binding& b, T& t) {
                     set(t, detail::fit<U>(v, b.name, v.i(b.name), b.scale));
                   });
  }

  template <class F>
  BoundParam real(const std::string& name, F T::*field, const std::string& unit, const std::string& desc) {
    return real(name, into(field), unit, desc);
  }
  template <class F>
  BoundParam real(const std::string& name, Into<T, F> to, const std::string& unit, const std::string& desc) {
    static_assert(std::is_floating_point_v<typename detail::Field<F>::type>, "a real parameter fills a floating field");
    return bind<F>(m_schema->real(name, unit, desc),
                   [set = std::move(to.set)](const Values& v, const Binding& b, T& t) { set(t, v.f(b.name)); });
  }

  template <class F>
  BoundParam boolean(const std::string& name, F T::*field, const std::string& desc) {
    static_assert(std::is_same_v<typename detail::Field<F>::type, bool>, "a boolean parameter fills a bool field");
    return bind<F>(m_schema->boolean(name, desc),
                   [field](const Values& v, const Binding& b, T& t) { t.*field = v.b(b.name); });
  }

  template <class F>
  BoundParam string(const std::string& name, F T::*field, const std::string& desc) {
    static_assert(std::is_same_v<typename detail::Field<F>::type, std::string>, "a string parameter fills a string");
    return bind<F>(m_schema->string(name, desc),
                   [field](const Values& v, const Binding& b, T& t) { t.*field = v.s(b.name); });
  }

  /// One of the names of `table` (EnumName entries, in the order `bpsim list` shows).
  template <class F, class Table>
  BoundParam choice(const std::string& name, F T::*field, const Table& table, const std::string& desc) {
    return choice(name, into(field), table, desc);
  }
  template <class F, class Table>
  BoundParam choice(const std::string& name, Into<T, F> to, const Table& table, const std::string& desc) {
    using E = std::decay_t<decltype(std::begin(table)->value)>;
    static_assert(std::is_convertible_v<E, F>, "the table's enum fills the field");
    std::vector<EnumName<E>> names(std::begin(table), std::end(table));
    std::vector<std::string> choices;
    choices.reserve(names.size());
    for (const auto& e : names) choices.push_back(e.name);
    return bind<F>(m_schema->choice(name, std::move(choices), desc),
                   [set = std::move(to.set), names](const Values& v, const Binding& b, T& t) {
                     const std::string& given = v.s(b.name);  // validated: one of the names
                     for (const auto& e : names)
                       if (given == e.name) return set(t, e.value);
                   });
  }

  /// A list of integers, reals or strings filling a vector; absent, it leaves the vector empty.
  template <class U>
  BoundParam list(const std::string& name, std::vector<U> T::*field, const std::string& desc) {
    constexpr bool kText = std::is_same_v<U, std::string>;
    constexpr bool kReal = std::is_floating_point_v<U>;
    static_assert(kText || kReal || std::is_integral_v<U>,
                  "a list parameter fills a vector of integers, reals or strings");
    ParamDecl& d = m_schema->list(name, kText ? ParamType::String : kReal ? ParamType::Float : ParamType::Int, desc);
    return bind<std::optional<U>>(d, [field](const Values& v, const Binding& b, T& t) {
      if constexpr (kText) {
        t.*field = v.strings(b.name);
      } else if constexpr (kReal) {
        for (const std::string& x : v.strings(b.name)) (t.*field).push_back(U(std::stod(x)));  // validated reals
      } else {
        for (int64_t x : v.ints(b.name)) (t.*field).push_back(detail::fit<U>(v, b.name, x, 1));
      }
    });
  }

  /// A map of parameters filling the member struct `field` through `members`.
  template <class G>
  BoundParam group(const std::string& name, G T::*field, const Binder<G>& members, const std::string& desc) {
    return bind<G>(m_schema->group(name, members.schema(), desc),
                   [field, members](const Values& v, const Binding& b, T& t) { members.fill(v.g(b.name), t.*field); });
  }

  /// A T with every bound field filled from `v` (validated against schema()).
  T parse(const Values& v) const {
    T t{};
    fill(v, t);
    return t;
  }
  void fill(const Values& v, T& t) const {
    for (const Binding& b : m_bindings) {
      if (v.has(b.name)) b.fill(v, b, t);
      else if (!b.optional)
        throw std::logic_error("parameter '" + v.path() + "." + b.name +
                               "' has no default but fills a non-optional field");
    }
  }
  std::shared_ptr<const Schema> schema() const { return m_schema; }

 private:
  struct Binding {
    std::string name;
    bool optional = false;  ///< the field may stay empty (std::optional, list)
    int64_t scale = 1;
    std::function<void(const Values&, const Binding&, T&)> fill;
  };
  template <class F>
  BoundParam bind(ParamDecl& decl, std::function<void(const Values&, const Binding&, T&)> fill) {
    m_bindings.push_back({decl.name, detail::Field<F>::optional, 1, std::move(fill)});
    return BoundParam(decl, m_bindings.back().scale);
  }
  std::shared_ptr<Schema> m_schema;
  std::deque<Binding> m_bindings;  // deque: BoundParam's scale reference stays valid
};

}  // namespace bpsim::config
