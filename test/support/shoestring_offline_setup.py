"""Runs `shoestring setup` (symbol-shoestring 0.2.3) without network access, as a reference oracle for tests.

Shoestring's setup reaches the internet in exactly three places; everything else (package extraction from a
file:// zip, property patching, certificate generation with openssl, rest.json, compose files) is its real code:
  1. download_peers()                  -> nodewatch; replaced by shoestring's own _save_peers_file() on given peers
  2. get_current_finalization_epoch()  -> nodewatch; replaced by a fixed epoch (only voting key ranges use it)
  3. _prepare_linking_transaction()    -> a REST node; skipped (the transaction is not part of the node config)
The shoestring.ini is produced the way the wizard does it: `init` from the package, then [node] patched with
shoestring's ConfigurationManager, and host/friendlyName passed as an overrides file.

Usage: python shoestring_offline_setup.py SPEC.json   (keys: see main())
"""

import asyncio
import gettext
import json
import sys
from argparse import Namespace
from pathlib import Path

import shoestring
from shoestring.commands import init as init_command
from shoestring.commands import setup as setup_command
from shoestring.internal import PeerDownloader
from shoestring.internal.ConfigurationManager import ConfigurationManager


def _install_translations():
	# shoestring's __main__ installs gettext's _() as a builtin; its modules call _() unqualified
	lang_directory = Path(shoestring.__file__).resolve().parent / 'lang'
	gettext.translation('messages', localedir=lang_directory, languages=('en',)).install()


def _patch_network_calls(spec):
	async def offline_download_peers(_nodewatch_endpoint, resources_directory, save_api_nodes=False, min_balance=0):
		del min_balance
		# pylint: disable=protected-access
		PeerDownloader._save_peers_file(list(spec['peersP2p']), resources_directory, 'p2p')
		if save_api_nodes:
			PeerDownloader._save_peers_file(list(spec['peersApi']), resources_directory, 'api')

		# setup indexes [0] of this list before handing it to the (skipped) linking transaction step
		return ['http://offline.invalid:3000']

	async def fixed_finalization_epoch(_nodewatch_endpoint, _config_manager):
		return int(spec['finalizationEpoch'])

	async def skip_linking_transaction(_preparer, _api_endpoint):
		return None

	setup_command.download_peers = offline_download_peers
	setup_command.get_current_finalization_epoch = fixed_finalization_epoch
	setup_command._prepare_linking_transaction = skip_linking_transaction  # pylint: disable=protected-access


async def main(spec_path):
	with open(spec_path, 'rt', encoding='utf8') as infile:
		spec = json.load(infile)

	work_directory = Path(spec['workDir'])
	config_path = work_directory / 'shoestring.ini'
	overrides_path = work_directory / 'overrides.ini'
	output_directory = work_directory / 'node'
	output_directory.mkdir(parents=True, exist_ok=False)

	_install_translations()
	_patch_network_calls(spec)

	await init_command.run_main(Namespace(package=spec['package'], config=str(config_path)))
	ConfigurationManager(work_directory).patch(config_path.name, [
		('node', 'features', spec['features']),
		('node', 'lightApi', 'true' if spec['lightApi'] else 'false'),
		('node', 'apiHttps', 'true' if spec['apiHttps'] else 'false'),
		('node', 'caCommonName', spec['caCommonName']),
		('node', 'nodeCommonName', spec['nodeCommonName'])
	])

	with open(overrides_path, 'wt', encoding='utf8') as outfile:
		outfile.write('\n'.join([
			'[node.localnode]',
			f'host = {spec["host"]}',
			f'friendlyName = {spec["friendlyName"]}',
			''
		]))

	await setup_command.run_main(Namespace(
		config=str(config_path),
		package=spec['package'],
		directory=str(output_directory),
		overrides=str(overrides_path),
		rest_overrides=None,
		security='default',
		ca_key_path=spec['caKeyPath']))


if '__main__' == __name__:
	asyncio.run(main(sys.argv[1]))
