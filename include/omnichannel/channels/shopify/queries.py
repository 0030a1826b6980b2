"""The GraphQL Admin API queries the connector sends, and the page sizes they ask for."""

from __future__ import annotations

API_VERSION = "2025-01"


# Nested pages fetched with each order. Shopify prices a query before running it
# (objects 1 point, connections 2 + first × node cost) and refuses one above 1,000 points,
# so nested sizes bound how many orders fit on a page: about 190 points per order here.
# The rest of a longer nested list is read per order afterwards (see _complete_order).
LINE_PAGE = 20


REFUND_PAGE = 3


REFUND_LINE_PAGE = 3


MAX_ORDERS_PER_PAGE = 5


# per-order follow-up queries: 100 lines ≈ 600 points; every refund with up to 250 lines
# ≈ 760 points (a refund cannot have more lines than its order)
MORE_LINES_PAGE = 100


REFUND_LINES_MAX = 250


LINE_FIELDS = """
            id sku name quantity
            variant { id }
            originalUnitPriceSet { shopMoney { amount currencyCode } }
            discountedTotalSet { shopMoney { amount currencyCode } }"""


REFUND_FIELDS = """
          id createdAt
          totalRefundedSet { shopMoney { amount currencyCode } }
          refundLineItems(first: %(refund_lines)d) {
            pageInfo { hasNextPage }
            nodes { quantity subtotalSet { shopMoney { amount currencyCode } } }
          }"""


def orders_query(line_page: int, refund_page: int, refund_line_page: int) -> str:
    refund = REFUND_FIELDS % {"refund_lines": refund_line_page}
    return f"""
query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    edges {{
      cursor
      node {{
        id name email createdAt updatedAt processedAt cancelledAt
        displayFinancialStatus displayFulfillmentStatus currencyCode
        customer {{ id email }}
        subtotalPriceSet {{ shopMoney {{ amount currencyCode }} }}
        totalDiscountsSet {{ shopMoney {{ amount currencyCode }} }}
        totalShippingPriceSet {{ shopMoney {{ amount currencyCode }} }}
        totalTaxSet {{ shopMoney {{ amount currencyCode }} }}
        totalPriceSet {{ shopMoney {{ amount currencyCode }} }}
        totalRefundedSet {{ shopMoney {{ amount currencyCode }} }}
        lineItems(first: {line_page}) {{
          pageInfo {{ hasNextPage endCursor }}
          nodes {{{LINE_FIELDS}
          }}
        }}
        refunds(first: {refund_page}) {{{refund}
        }}
      }}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""


ORDER_LINES_QUERY = f"""
query OrderLines($id: ID!, $after: String) {{
  order(id: $id) {{
    lineItems(first: {MORE_LINES_PAGE}, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{{LINE_FIELDS}
      }}
    }}
  }}
}}
"""


ORDER_REFUNDS_QUERY = f"""
query OrderRefunds($id: ID!) {{
  order(id: $id) {{
    refunds {{{REFUND_FIELDS % {"refund_lines": REFUND_LINES_MAX}}
    }}
  }}
}}
"""


PRODUCTS_QUERY = """
query Products($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges {
      node {
        id legacyResourceId title handle vendor productType status createdAt updatedAt
        variants(first: 10) {
          pageInfo { hasNextPage }
          nodes { id legacyResourceId sku barcode price inventoryItem { id } }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


INVENTORY_QUERY = """
query Inventory($locationAfter: String, $after: String) {
  locations(first: 1, after: $locationAfter) {
    nodes {
      id name
      inventoryLevels(first: 50, after: $after) {
        nodes { item { id sku } quantities(names: ["available", "on_hand"]) { name quantity } }
        pageInfo { hasNextPage endCursor }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
