"""A small inventory module: the `make demo` example."""

from collections import Counter


def normalise(name):
    return name.strip().lower()


def restock(stock, deliveries):
    """Add delivered items to the stock; returns the names that were out of stock before."""
    counts = Counter({normalise(k): v for k, v in stock.items()})
    revived = []
    for item in deliveries:
        key = normalise(item)
        if counts[key] == 0:
            revived.append(key)
        counts[key] += 1
    return sorted(set(revived))


def in_stock(stock):
    """How many items the stock holds in all."""
    return sum(stock.values())


if __name__ == "__main__":
    print(restock({"Apple": 0, "pear": 2}, ["apple", " Pear", "fig", "FIG"]))
