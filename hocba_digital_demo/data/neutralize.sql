-- hocba_digital_demo: a copied demo database does not keep the demo store's token
DELETE FROM ir_config_parameter WHERE key = 'hocba_digital.demo_exchange_token';
