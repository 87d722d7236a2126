# VecdbTap.pm: what several TAP files share. A test loads it with
#   use FindBin; use lib $FindBin::RealBin; use VecdbTap;
package VecdbTap;
use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use Time::HiRes qw(time usleep);

our @EXPORT = qw(vec_function start_sql wait_sql);

# vec_function returns the SQL that creates vec(i bigint), a pseudo-random
# vector (uniform in [0, 1)^dims) per id, of type vector(dims).
sub vec_function
{
	my ($dims) = @_;
	return "CREATE FUNCTION vec(i bigint) RETURNS vector($dims) IMMUTABLE LANGUAGE sql AS\n"
	  . "\$\$ SELECT ARRAY(SELECT ((hashint8extended(i, j) & 16777215)::float8 / 16777216)::real\n"
	  . "                 FROM generate_series(1, $dims) j)::vector($dims) \$\$;\n";
}

# start_sql runs $sql through a new psql on $node's database postgres;
# returns its handle, output refs and start time.
sub start_sql
{
	my ($node, $sql) = @_;
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c', $sql ],
		'<', \undef, '>', \$out, '2>', \$err);
	return { h => $h, out => \$out, err => \$err, t0 => time };
}

# wait_sql waits until $s (from start_sql) ended or $secs passed since
# $from (default: its start); returns whether it ended and the seconds
# since $from.
sub wait_sql
{
	my ($s, $secs, $from) = @_;
	$from //= $s->{t0};
	while ($s->{h}->pumpable && time - $from < $secs)
	{
		$s->{h}->pump_nb;
		usleep(50_000);
	}
	my $done = !$s->{h}->pumpable;
	return ($done, time - $from);
}

1;
