"""Each kind's refusal apart: a listing in error keeps its refusal under the kind refused
(both, for an error of before the kinds were told apart), sent again at the next push."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE multichannel_product_binding
           SET stock_error = CASE WHEN error_kind IS DISTINCT FROM 'price' THEN message END,
               price_error = CASE WHEN error_kind IS DISTINCT FROM 'stock' THEN message END,
               error_kind = COALESCE(error_kind, 'both')
          FROM (SELECT id, COALESCE(NULLIF(last_error, ''), 'Refused by the channel.') AS message
                  FROM multichannel_product_binding
                 WHERE state = 'error' OR error_kind IS NOT NULL) AS refused
         WHERE multichannel_product_binding.id = refused.id
        """
    )
